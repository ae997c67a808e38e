from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models import MonthlyReport
from territory.models import Area

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR = 2000


class GenerateForm(forms.Form):
    street = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("街道"))
    kind = forms.ChoiceField(choices=MonthlyReport.Kind.choices, label=_("类型"))
    # A month picker where the browser has one (its value is YYYY-MM, as the text form asks).
    period = forms.CharField(label=_("月份"), max_length=7,
                             widget=forms.TextInput(attrs={"type": "month"}),
                             help_text=_("格式：2026-11；季报填季度的第一个月。"))

    def __init__(self, *args: Any, streets: list[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Last month: the report a clerk most often wants.
        last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
        self.fields["period"].initial = last_month.strftime("%Y-%m")
        if len(streets) == 1:
            self.fields["street"].initial = streets[0].pk
        field = self.fields["street"]
        if isinstance(field, forms.ModelChoiceField):  # declared so above
            field.queryset = Area.objects.filter(pk__in=[street.pk for street in streets])

    def clean_period(self) -> date:
        match = MONTH.match(self.cleaned_data["period"])
        if match is None or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError(_("请按 2026-11 的格式填写月份。"))
        # A report covers months the portal can have held: none before 2000 (year 0 is no
        # date at all) and none after this one (the period's end would be past any data).
        if not FIRST_YEAR <= int(match[1]) <= timezone.localdate().year:
            raise forms.ValidationError(_("报表期间无效。"))
        period = date(int(match[1]), int(match[2]), 1)
        if period > timezone.localdate():
            raise forms.ValidationError(_("报表期间无效。"))
        return period


class RankingForm(forms.Form):
    """The rankings page's pickers (GET): a whole past month, or this month so far; the rate;
    the street, when the user may open more than one."""

    period = forms.CharField(label=_("月份"), max_length=7, required=False,
                             widget=forms.TextInput(attrs={"type": "month"}),
                             help_text=_("留空为本月至今。"))
    rate = forms.ChoiceField(label=_("考核指标"), required=False,
                             choices=[("resolution", _("办结率")), ("response", _("响应率")),
                                      ("satisfaction", _("满意率"))])
    street = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("街道"),
                                    required=False)

    def __init__(self, *args: Any, streets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["street"]
        if isinstance(field, forms.ModelChoiceField):  # declared so above
            field.queryset = streets

    def clean_period(self) -> date | None:
        value = self.cleaned_data["period"]
        if not value:
            return None
        match = MONTH.match(value)
        if match is None or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError(_("请按 2026-11 的格式填写月份。"))
        if not FIRST_YEAR <= int(match[1]) <= timezone.localdate().year:
            raise forms.ValidationError(_("排名期间无效。"))
        month = date(int(match[1]), int(match[2]), 1)
        if month > timezone.localdate():
            raise forms.ValidationError(_("排名期间无效。"))
        return month
