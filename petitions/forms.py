"""Forms of the petition pages: parse and check input, never write (the services do).

Messages are Chinese first. The submit form's location is a cascade (compound → building → unit →
household): each level's choices are narrowed by the level above, so a building from another
compound or a household that is not the resident's is refused here with a clear message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core.phones import MobilePhoneFormField
from core.scope import scope_path
from core.widgets import IsoDateInput
from governance.models import Body
from petitions import cohandling
from petitions.models import (
    MAX_PHOTOS,
    AssessmentExclusion,
    Category,
    NoVisitReason,
    Petition,
    RecurrenceSuggestion,
)
from residents.models import Household
from residents.selectors import household_list
from territory.models import Area, Building, Compound, Unit
from territory.selectors import building_list, compound_list

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a development dependency: annotations only

    HouseholdChoiceField = forms.ModelChoiceField[Household]
    UserChoiceField = forms.ModelChoiceField[User]
else:  # the stubs' ModelChoiceField is generic; Django's is not subscriptable at run time
    HouseholdChoiceField = UserChoiceField = forms.ModelChoiceField

ANSWER_PREFIX = "answer_"
MAX_DESCRIPTION = 2000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS images; the content is checked by core.images in the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[bytes]]:
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("最多上传 %(count)s 张照片。") % {"count": MAX_PHOTOS}, code="too_many_photos")
        return [super(PhotosField, self).clean(item, initial) for item in files]


def _model_choice(form: forms.Form, name: str) -> forms.ModelChoiceField[Any]:
    """The form's field `name`, declared a ModelChoiceField: its queryset and labels are set
    per request."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 declared so on the form
    return field


def active_categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True).order_by("sort_order", "id"))


def category_choices(categories: Iterable[Category]) -> list[tuple[Any, Any]]:
    """The two-level tree as <optgroup>s: a parent with children becomes a group."""
    categories = list(categories)
    children: dict[int, list[Category]] = {}
    for item in categories:
        if item.parent_id is not None:
            children.setdefault(item.parent_id, []).append(item)
    choices: list[tuple[Any, Any]] = [("", _("请选择诉求分类"))]
    for item in categories:
        if item.parent_id is not None:
            continue
        if item.pk in children:
            group = [(item.pk, _("%(name)s（其他）") % {"name": item.name})]
            group += [(child.pk, child.name) for child in children[item.pk]]
            choices.append((item.name, group))
        else:
            choices.append((item.pk, item.name))
    return choices


def answer_fields(category: Category | None) -> dict[str, forms.Field]:
    """The category's extra questions as form fields, keyed `answer_<key>`."""
    if category is None:
        return {}
    fields: dict[str, forms.Field] = {}
    for question in category.extra_questions or []:
        key, label = str(question.get("key", "")), str(question.get("label", ""))
        if not key or not label:
            continue
        fields[f"{ANSWER_PREFIX}{key}"] = forms.CharField(
            label=label, max_length=200, required=bool(question.get("required")),
            error_messages={"required": _("请回答：%(label)s") % {"label": label}},
        )
    return fields


def _id_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class RoomChoiceField(HouseholdChoiceField):
    def label_from_instance(self, obj: Household) -> str:
        return obj.room


class PetitionSubmitForm(forms.Form):
    """A resident's petition from a phone (channel 手机网页)."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True), label=_lazy("诉求分类"),
        error_messages={"required": _lazy("请选择诉求分类。"),
                        "invalid_choice": _lazy("请选择有效的诉求分类。")},
    )
    description = forms.CharField(
        label=_lazy("诉求内容"), max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _lazy("请描述发生了什么、在哪里")}),
        error_messages={"required": _lazy("请填写诉求内容。"),
                        "max_length": _lazy("诉求内容不能超过 %(limit_value)d 字。")},
    )
    compound = forms.ModelChoiceField(queryset=Compound.objects.none(), required=False,
                                      label=_lazy("小区"), empty_label=_lazy("请选择小区"))
    building = forms.ModelChoiceField(queryset=Building.objects.none(), required=False,
                                      label=_lazy("楼栋"), empty_label=_lazy("请选择楼栋"))
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False,
                                  label=_lazy("单元"), empty_label=_lazy("不指定单元"))
    household = RoomChoiceField(queryset=Household.objects.none(), required=False,
                                label=_lazy("我的房屋"), empty_label=_lazy("不指定房屋"))
    location_text = forms.CharField(
        label=_lazy("或填写位置"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"placeholder": _lazy("如：小区东门、3号楼北侧绿化带")}),
    )
    # Filled by "使用我的位置" in WeChat (static/js/wechat.js: wx.getLocation, GCJ-02 like
    # territory.geo); placement then finds the building from them.
    latitude = forms.DecimalField(required=False, max_digits=9, decimal_places=6,
                                  min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, max_digits=9, decimal_places=6,
                                   min_value=-180, max_value=180, widget=forms.HiddenInput)
    photos = PhotosField(label=_lazy("照片（最多 3 张）"))
    is_anonymous = forms.BooleanField(
        label=_lazy("匿名反映（工作人员和公示中都看不到您的姓名）"), required=False)
    is_public = forms.BooleanField(
        label=_lazy("同意在办结公示中展示诉求内容和第一张照片（文字已隐去个人信息，"
                    "请勿上传含人脸、门牌的照片）"),
        required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        categories = active_categories()
        _model_choice(self, "category").choices = category_choices(categories)
        _model_choice(self, "compound").queryset = compound_list()
        selected = self._selected_ids()
        _model_choice(self, "building").queryset = self._buildings(selected["compound"])
        _model_choice(self, "unit").queryset = (
            Unit.objects.filter(building_id=selected["building"])
            if selected["building"] else Unit.objects.none())
        _model_choice(self, "household").queryset = (
            household_list(user=user, filters={"unit": selected["unit"]})
            if selected["unit"] else Household.objects.none())
        category = next((item for item in categories if item.pk == selected["category"]), None)
        self.fields.update(answer_fields(category))
        self._add_htmx_attributes()

    def _buildings(self, compound_id: int | None) -> QuerySet[Building]:
        if not compound_id:
            return Building.objects.none()
        return building_list().filter(compound_id=compound_id)

    def _add_htmx_attributes(self) -> None:
        """Category → its questions; each location level → the re-rendered cascade."""
        self.fields["category"].widget.attrs.update({
            "hx-get": reverse("petitions:picker-questions"), "hx-trigger": "change",
            "hx-target": "#questions", "hx-swap": "outerHTML",
        })
        for name in ("compound", "building", "unit", "household"):
            self.fields[name].widget.attrs.update({
                "hx-get": reverse("petitions:picker-location"), "hx-trigger": "change",
                "hx-include": "#location-picker", "hx-target": "#location-picker",
                "hx-swap": "outerHTML",
            })

    def _selected_ids(self) -> dict[str, int | None]:
        source: Any = self.data if self.is_bound else self.initial
        names = ("category", "compound", "building", "unit")
        values = {}
        for name in names:
            value = source.get(name)
            values[name] = _id_or_none(getattr(value, "pk", value))
        return values

    @property
    def answer_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(ANSWER_PREFIX)]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        household = cleaned.get("household")
        building = cleaned.get("building")
        if household is not None:
            cleaned["building"] = building = household.building
        if (cleaned.get("latitude") is None) != (cleaned.get("longitude") is None):
            cleaned["latitude"] = cleaned["longitude"] = None
        has_coordinates = cleaned.get("latitude") is not None
        if (building is None and not has_coordinates
                and not (cleaned.get("location_text") or "").strip()):
            raise forms.ValidationError(_("请选择楼栋，或填写位置描述。"), code="no_location")
        return cleaned

    @property
    def answers(self) -> dict[str, str]:
        return {name.removeprefix(ANSWER_PREFIX): value
                for name, value in self.cleaned_data.items()
                if name.startswith(ANSWER_PREFIX) and value}


class RateForm(forms.Form):
    rating = forms.ChoiceField(
        label=_lazy("您对办理结果是否满意？"), choices=Petition.Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _lazy("请选择满意、基本满意或不满意。"),
                        "invalid_choice": _lazy("请选择满意、基本满意或不满意。")},
    )
    comment = forms.CharField(label=_lazy("意见（可选）"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


def _reason_field(label: StrOrPromise, required_message: StrOrPromise, *,
                  required: bool = True) -> forms.CharField:
    return forms.CharField(label=label, max_length=500, required=required,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": required_message})


class ReasonForm(forms.Form):
    """Return, reject, escalate, reopen: a required reason."""

    reason = _reason_field(_lazy("原因"), _lazy("请填写原因。"))


class NoteForm(forms.Form):
    """A staff note: internal unless its writer addresses it to the resident."""

    INTERNAL, RESIDENT = "internal", "resident"

    note = _reason_field(_lazy("办理记录"), "", required=False)
    photos = PhotosField(label=_lazy("照片（最多 3 张）"))
    visibility = forms.ChoiceField(
        label=_lazy("谁能看到"), widget=forms.RadioSelect, initial=INTERNAL, required=False,
        choices=[(INTERNAL, _lazy("仅工作人员（内部记录）")),
                 (RESIDENT, _lazy("居民也能看到（写给居民的话）"))],
        error_messages={"invalid_choice": _lazy("请选择谁能看到这条记录。")},
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not (cleaned.get("note") or "").strip() and not cleaned.get("photos"):
            raise forms.ValidationError(_("请填写办理记录或上传照片。"), code="empty")
        return cleaned


class ResolveForm(forms.Form):
    """办结. Before a check-in it asks why no visit was needed (the service requires one of the
    two); a category that requires a result photo says so on the photo field."""

    resolution = _reason_field(_lazy("办理结果"), _lazy("请填写办理结果。"))
    photos = PhotosField(label=_lazy("照片（最多 3 张）"))
    no_visit_reason = forms.ChoiceField(
        label=_lazy("未到场办结原因"), required=False,
        choices=[("", _lazy("（请选择）")), *NoVisitReason.choices],
        help_text=_lazy("未到场签到的，须选择原因；未到场办结计为未按时到场。"),
        error_messages={"invalid_choice": _lazy("未到场办结原因无效。")},
    )
    no_visit_note = forms.CharField(label=_lazy("未到场办结说明"), max_length=200,
                                    required=False)

    def __init__(self, *args: Any, has_arrived: bool = False, photo_required: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_arrived:
            del self.fields["no_visit_reason"], self.fields["no_visit_note"]
        if photo_required:
            self.fields["photos"].label = _("现场照片（必传，最多 3 张）")


class VerifyForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_lazy("核实结果"), coerce=lambda value: value == "yes",
        choices=[("yes", _lazy("通过")), ("no", _lazy("未通过，退回承办人"))],
        widget=forms.RadioSelect, initial="yes",
        error_messages={"required": _lazy("请选择核实结果。")},
    )
    note = _reason_field(_lazy("说明（未通过时必填）"), "", required=False)


class NoteOnlyForm(forms.Form):
    """Close: an optional note."""

    note = _reason_field(_lazy("说明"), "", required=False)


class ReferForm(forms.Form):
    """Refer to deliberation: the topic every resident of the compound reads, written by staff
    (required for a petition that is not public or anonymous), and a note for the timeline."""

    title = forms.CharField(label=_lazy("议题名称"), max_length=200, required=False)
    description = forms.CharField(
        label=_lazy("议题说明"), max_length=2000, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_lazy("未同意公开或匿名的诉求必填：由工作人员概括，不得引用诉求原文或诉求人信息。"),
    )
    note = _reason_field(_lazy("说明"), "", required=False)


def _staff_choice_label(user: User) -> str:
    return f"{user}（{user.get_role_display()}）"


class StaffChoiceField(UserChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _staff_choice_label(obj)


class DispatchForm(forms.Form):
    holder = StaffChoiceField(
        queryset=User.objects.none(), label=_lazy("承办人"),
        error_messages={"required": _lazy("请选择承办人。"),
                        "invalid_choice": _lazy("请选择有效的承办人。")},
    )
    note = _reason_field(_lazy("说明"), "", required=False)

    def __init__(self, *args: Any, holders: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "holder").queryset = holders


class RerouteForm(forms.Form):
    building = forms.ModelChoiceField(queryset=Building.objects.none(), required=False,
                                      label=_lazy("改派到楼栋"), empty_label=_lazy("不变"))
    holder = StaffChoiceField(queryset=User.objects.none(), required=False,
                              label=_lazy("承办人"), empty_label=_lazy("按层级自动确定"))
    note = _reason_field(_lazy("说明"), "", required=False)

    def __init__(self, *args: Any, buildings: QuerySet[Building], holders: QuerySet[User],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "building").queryset = buildings
        _model_choice(self, "holder").queryset = holders


class StatsForm(forms.Form):
    by = forms.ChoiceField(choices=[("week", _lazy("按周")), ("month", _lazy("按月"))],
                           required=False, label=_lazy("统计周期"))

    def clean_by(self) -> str:
        return self.cleaned_data.get("by") or "week"


class PlaceForm(forms.Form):
    """待分派 → a building (usually) or a micro-grid, in one action (petition_place)."""

    building = forms.ModelChoiceField(queryset=Building.objects.none(), required=False,
                                      label=_lazy("定位到楼栋"), empty_label=_lazy("（选择楼栋）"))
    area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False,
                                  label=_lazy("或定位到微网格"),
                                  empty_label=_lazy("（选择微网格）"))
    note = _reason_field(_lazy("说明"), "", required=False)

    def __init__(self, *args: Any, buildings: QuerySet[Building], micro_grids: QuerySet[Area],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "building").queryset = buildings
        _model_choice(self, "area").queryset = micro_grids

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if (cleaned.get("building") is None) == (cleaned.get("area") is None):
            raise forms.ValidationError(_("请选择一个楼栋或一个微网格。"))
        return cleaned


class IntakeForm(PetitionSubmitForm):
    """A walk-in or phone call recorded by staff (代录): the resident form's picker, limited to
    the recorder's scope, plus the channel, who came or called, and the number they checked."""

    channel = forms.ChoiceField(
        label=_lazy("来源"), widget=forms.RadioSelect, initial=Petition.Channel.WALK_IN,
        choices=[(Petition.Channel.WALK_IN, _lazy("来访")),
                 (Petition.Channel.PHONE, _lazy("来电"))],
        error_messages={"required": _lazy("请选择来访或来电。"),
                        "invalid_choice": _lazy("请选择来访或来电。")},
    )
    contact_name = forms.CharField(label=_lazy("联系人姓名"), max_length=50,
                                   error_messages={"required": _lazy("请填写联系人姓名。")})
    contact_phone = MobilePhoneFormField(label=_lazy("联系电话"), max_length=20, required=False)
    phone_verified = forms.BooleanField(
        label=_lazy("已当面/电话核实号码"), required=False,
        help_text=_lazy("当面请对方出示或回拨该号码确认；核实后的号码会收到办理进度短信。"))
    size = forms.ChoiceField(label=_lazy("事项大小"), choices=Petition.Size.choices,
                             initial=Petition.Size.SMALL)

    field_order = ["channel", "contact_name", "contact_phone", "phone_verified", "category"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        del self.fields["is_anonymous"]
        self.fields["is_public"].label = _("当事人同意在办结公示中展示诉求内容（已隐去个人信息）")
        self.fields["household"].label = _("房屋")
        prefix = scope_path(user)
        _model_choice(self, "compound").queryset = (
            Compound.objects.none() if prefix is None else
            compound_list().filter(buildings__micro_grid__path__startswith=prefix).distinct())
        self.fields["category"].widget.attrs["hx-get"] = reverse(
            "petitions:staff-intake-picker-questions")
        for name in ("compound", "building", "unit", "household"):
            self.fields[name].widget.attrs["hx-get"] = reverse(
                "petitions:staff-intake-picker-location")

    def _buildings(self, compound_id: int | None) -> QuerySet[Building]:
        """Only the buildings in the recorder's scope."""
        prefix = scope_path(self.user)
        if prefix is None:
            return Building.objects.none()
        return super()._buildings(compound_id).filter(micro_grid__path__startswith=prefix)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("contact_phone") and not cleaned.get("phone_verified"):
            self.add_error("phone_verified",
                           _("请先当面或回拨核实联系电话，再勾选“已核实号码”。"))
        return cleaned


class CallbackForm(forms.Form):
    """回访: the rating a member of staff took from the person, and how they reached them."""

    method = forms.ChoiceField(
        label=_lazy("回访方式"), choices=Petition.CallbackMethod.choices,
        widget=forms.RadioSelect, initial=Petition.CallbackMethod.PHONE,
        error_messages={"required": _lazy("请选择电话回访或上门回访。"),
                        "invalid_choice": _lazy("请选择电话回访或上门回访。")},
    )
    rating = forms.ChoiceField(
        label=_lazy("当事人是否满意？"), choices=Petition.Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _lazy("请选择满意、基本满意或不满意。"),
                        "invalid_choice": _lazy("请选择满意、基本满意或不满意。")},
    )
    note = _reason_field(_lazy("回访记录（可选）"), "", required=False)


class ExclusionRequestForm(forms.Form):
    """申请剔除考核: why the petition should not count in the assessment (petitions/assessment.py
    checks the rest)."""

    reason = forms.ChoiceField(label=_lazy("剔除原因"),
                               choices=AssessmentExclusion.Reason.choices)
    note = forms.CharField(label=_lazy("情况说明"), max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": _lazy("请填写申请剔除的情况说明。")})


class ExclusionDecisionForm(forms.Form):
    """A street admin's decision: a note, required for a refusal (the service says so)."""

    note = forms.CharField(label=_lazy("审批意见"), max_length=500, required=False,
                           widget=forms.TextInput())


class RecurrenceAcceptForm(forms.Form):
    """采纳未诉先办建议: a topic or a need, with a neutral title and text (the service refuses
    one quoting a petition)."""

    outcome = forms.ChoiceField(
        label=_lazy("处理方式"), widget=forms.RadioSelect,
        choices=RecurrenceSuggestion.Outcome.choices, initial=RecurrenceSuggestion.Outcome.TOPIC,
        error_messages={"required": _lazy("请选择发起议题或列入需求清单。")})
    title = forms.CharField(label=_lazy("名称"), max_length=200,
                            error_messages={"required": _lazy("请填写议题或需求的名称。")})
    description = forms.CharField(label=_lazy("说明"), required=False, max_length=1000,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class RecurrenceDismissForm(forms.Form):
    reason = forms.CharField(label=_lazy("不采纳理由"), max_length=500,
                             error_messages={"required": _lazy("不采纳须填写理由。")})


# --- 协办 (petitions/cohandling.py) --------------------------------------------------------------

COHANDLING_DUE_HOUR = time(18, 0)  # a due date means the end of that working day


def due_moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, COHANDLING_DUE_HOUR))


if TYPE_CHECKING:
    BodyChoiceBase = forms.ModelChoiceField[Body]
else:
    BodyChoiceBase = forms.ModelChoiceField


class BodyChoiceField(BodyChoiceBase):
    def label_from_instance(self, obj: Body) -> str:
        return f"{obj.get_kind_display()} · {obj.name}"


class CoHandlingForm(forms.Form):
    """The staff page's 发起协办: a body near the petition, the task, a due date."""

    body = BodyChoiceField(queryset=Body.objects.none(), label=_lazy("协办单位"),
                           error_messages={"required": _lazy("请选择协办单位。"),
                                           "invalid_choice": _lazy("请选择协办单位。")})
    task = forms.CharField(label=_lazy("协办事项"), max_length=cohandling.MAX_TASK,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": _lazy("请填写协办事项。")})
    due_on = forms.DateField(label=_lazy("答复期限"),
                             widget=IsoDateInput(),
                             error_messages={"required": _lazy("请选择答复期限。"),
                                             "invalid": _lazy("请选择答复期限。")})

    def __init__(self, *args: Any, petition: Petition | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = _model_choice(self, "body")
        if petition is not None:
            field.queryset = cohandling.cohandling_body_list(petition=petition)
        today = timezone.localdate()
        last = today + settings.COHANDLING_LINK_TTL - timedelta(days=1)
        self.fields["due_on"].initial = min(today + timedelta(days=2), last)
        self.fields["due_on"].widget.attrs.update(min=today.isoformat(), max=last.isoformat())


class CoHandlingAnswerForm(forms.Form):
    """The body's answer on its link's page."""

    note = forms.CharField(label=_lazy("答复内容"), max_length=cohandling.MAX_ANSWER,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": _lazy("请填写答复内容。")})
    photos = PhotosField(label=_lazy("现场照片（最多 3 张）"))


# --- 延期 (petitions/extensions.py) -------------------------------------------------------------


class ExtensionRequestForm(forms.Form):
    """申请延期: how many (working) days more, and why (the service checks the rest)."""

    days = forms.IntegerField(label=_lazy("申请延期天数"), min_value=1, max_value=30,
                              help_text=_lazy("按时限规则的计算方式计：工作日或自然日。"))
    reason = forms.CharField(label=_lazy("延期理由"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _lazy("请填写延期理由。")})


class ExtensionDecisionForm(forms.Form):
    """The level above decides: the days granted (at most those asked) and a note, required
    for a refusal (the service says so)."""

    days = forms.IntegerField(label=_lazy("批准天数"), min_value=1, max_value=30, required=False)
    note = forms.CharField(label=_lazy("审批意见"), max_length=500, required=False,
                           widget=forms.TextInput())
