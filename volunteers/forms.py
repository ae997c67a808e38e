from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.widgets import IsoDateInput, IsoDateTimeInput
from volunteers.models import (
    Activity,
    CareVisit,
    ProxyConsent,
    ProxyService,
    QualificationKind,
    Team,
)


class WishForm(forms.Form):
    title = forms.CharField(label=_("我的心愿"), max_length=100)
    description = forms.CharField(label=_("补充说明"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class ProxyServiceForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=ProxyService.Kind.choices)
    title = forms.CharField(label=_("需要代办的事项"), max_length=100)
    description = forms.CharField(label=_("补充说明"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class FulfilForm(forms.Form):
    note = forms.CharField(label=_("完成说明"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.ImageField(label=_("照片"), required=False)


class CodeForm(forms.Form):
    code = forms.RegexField(label=_("签到码"), regex=r"^\d{6}$", max_length=6,
                            error_messages={"invalid": _("签到码为 6 位数字。")},
                            widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                          "autocomplete": "off"}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("办理结果"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


class AssignForm(forms.Form):
    assignee = forms.IntegerField(label=_("代办人"))


class SwapForm(forms.Form):
    to_volunteer = forms.IntegerField(label=_("替班人"))
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("走访日期"), widget=IsoDateInput())
    condition = forms.ChoiceField(label=_("状况"), choices=CareVisit.Condition.choices)
    notes = forms.CharField(label=_("走访记录"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
    duration_minutes = forms.IntegerField(
        label=_("走访时长（分钟）"), min_value=0, max_value=24 * 60, initial=0, required=False,
        help_text=_("计入走访志愿者的服务时长，待工作人员认定。"))
    need = forms.CharField(label=_("发现需求"), max_length=200, required=False,
                           help_text=_("如需帮办代办或转为诉求，请简要写明。"))

    def clean_duration_minutes(self) -> int:
        return int(self.cleaned_data.get("duration_minutes") or 0)


class VisitProxyServiceForm(forms.Form):
    """A visit's need opened as a proxy service: the elder's consent is noted."""

    kind = forms.ChoiceField(label=_("代办类型"), choices=ProxyService.Kind.choices)
    consent_by = forms.CharField(label=_("同意人"), max_length=50,
                                 help_text=_("老人本人，或其家属（写明关系）"))
    consent_method = forms.ChoiceField(label=_("同意方式"),
                                       choices=ProxyConsent.ConsentMethod.choices)


class OnBehalfForm(forms.Form):
    """代录: what the elder asked for, and their consent (who agreed, how, when)."""

    title = forms.CharField(label=_("事项"), max_length=100)
    description = forms.CharField(label=_("补充说明"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    consent_by = forms.CharField(label=_("同意人"), max_length=50,
                                 help_text=_("老人本人，或其家属（写明关系）"))
    consent_method = forms.ChoiceField(label=_("同意方式"),
                                       choices=ProxyConsent.ConsentMethod.choices)
    consent_at = forms.DateTimeField(label=_("同意时间"), widget=IsoDateTimeInput())


class OnBehalfProxyServiceForm(OnBehalfForm):
    kind = forms.ChoiceField(label=_("代办类型"), choices=ProxyService.Kind.choices)


class VisitPetitionForm(forms.Form):
    category_id = forms.TypedChoiceField(label=_("诉求分类"), coerce=int, choices=())
    description = forms.CharField(label=_("诉求内容"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text=_("留空则使用走访记录的需求"))

    def __init__(self, *args: Any, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category_id"].choices = categories  # type: ignore[attr-defined]


class RequirementsAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin's form for a post, an activity or a care file: the qualifications it requires,
    as boxes to tick instead of JSON to type."""

    required_qualifications = forms.MultipleChoiceField(
        label=_("所需资质"), choices=QualificationKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple)


class ShiftNoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class QualificationForm(forms.Form):
    kind = forms.ChoiceField(label=_("资质类型"), choices=QualificationKind.choices)
    obtained_on = forms.DateField(label=_("取得日期"), widget=IsoDateInput())
    expires_on = forms.DateField(label=_("有效期至"), widget=IsoDateInput(), required=False)
    reference = forms.CharField(label=_("证书编号"), max_length=50, required=False)


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("活动名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Activity.Kind.choices)
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(label=_("组织团队"), queryset=None,
                                                                required=False)
    starts_at = forms.DateTimeField(label=_("开始"), widget=IsoDateTimeInput())
    ends_at = forms.DateTimeField(label=_("结束"), widget=IsoDateTimeInput())
    capacity = forms.IntegerField(label=_("名额"), min_value=1, max_value=10000)
    location = forms.CharField(label=_("地点"), max_length=100, required=False)
    description = forms.CharField(label=_("说明"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    required_qualifications = forms.MultipleChoiceField(
        label=_("所需资质"), choices=QualificationKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("未持有效资质的志愿者不能报名。"))

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `fields` is typed as plain Fields; this one is the ModelChoiceField declared above.
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise forms.ValidationError(_("结束时间必须晚于开始时间。"))
        return data


class RosterGenerateForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), widget=IsoDateInput())
    end = forms.DateField(label=_("结束日期"), widget=IsoDateInput())


class HoursAddForm(forms.Form):
    hours = forms.DecimalField(label=_("时长(小时)"), min_value=0.5, max_value=24,
                               decimal_places=1)
    served_on = forms.DateField(label=_("服务日期"), widget=IsoDateInput())
    note = forms.CharField(label=_("说明"), max_length=200)
