"""Durations in the admin as days, hours and minutes (issue 13 item 11).

Django edits a DurationField as text in its own `[DD] [HH:[MM:]]ss` form (`1 00:00:00`) and
lists it as Python prints a timedelta (`1 day, 0:00:00`): a clerk reads neither. Here a duration
is three labelled number boxes, plus a box for seconds only when the value has seconds (tests and
demos use second-long clocks, and saving the form must not round them away). Give an admin
`formfield_overrides = ADMIN_DURATION_OVERRIDES`; tests/core/test_admin_durations.py fails for
any admin that edits a DurationField without it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db import models
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.dateparse import parse_duration
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

# (name suffix, unit label, largest value; None: no limit), largest unit first.
PARTS: tuple[tuple[str, Any, int | None], ...] = (
    ("days", _("天"), None),
    ("hours", _("小时"), 23),
    ("minutes", _("分钟"), 59),
    ("seconds", _("秒"), 59),
)
SECONDS = len(PARTS) - 1


def duration_parts(value: timedelta) -> list[int]:
    """[days, hours, minutes, seconds] of a non-negative duration (microseconds dropped)."""
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return [days, hours, minutes, seconds]


def duration_text(value: timedelta | None) -> str:
    """A duration as a clerk reads it: `1 天 12 小时`, `7 分钟`; its zero parts left out."""
    if value is None:
        return ""
    words = [_unit_words(suffix, count)
             for (suffix, _label, _largest), count in zip(PARTS, duration_parts(value),
                                                           strict=True) if count]
    return " ".join(words) or _unit_words("minutes", 0)


def _unit_words(suffix: str, count: int) -> str:
    # One ngettext per unit (xgettext needs the literal strings), so English gets "1 day"/"2 days".
    if suffix == "days":
        return ngettext("%(count)s 天", "%(count)s 天", count) % {"count": count}
    if suffix == "hours":
        return ngettext("%(count)s 小时", "%(count)s 小时", count) % {"count": count}
    if suffix == "minutes":
        return ngettext("%(count)s 分钟", "%(count)s 分钟", count) % {"count": count}
    return ngettext("%(count)s 秒", "%(count)s 秒", count) % {"count": count}


class DurationPartsWidget(forms.MultiWidget):
    """Number boxes, each inside its own label (天 / 小时 / 分钟 [/ 秒]), grouped under the
    field's label (the admin's own label cannot point at several inputs)."""

    group_label: Any = ""

    class Media:
        css = {"all": ["css/admin.css"]}

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            suffix: forms.NumberInput(attrs={"min": 0, "step": 1, "class": "vIntegerField",
                                                   **({"max": largest} if largest else {})})
            for suffix, _label, largest in PARTS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[int | None]:
        if isinstance(value, str):
            value = parse_duration(value)
        if not isinstance(value, timedelta):
            return [None] * len(PARTS)
        parts: list[int | None] = list(duration_parts(value))
        if not parts[SECONDS]:
            parts[SECONDS] = None
        return parts

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: BaseRenderer | None = None) -> SafeString:
        renderer = renderer or get_default_renderer()
        subwidgets = self.get_context(name, value, attrs)["widget"]["subwidgets"]
        shown = [
            # the renderer returns the built-in number template's trusted HTML
            (mark_safe(renderer.render(subwidget["template_name"], {"widget": subwidget})),
             label)
            for index, ((_suffix, label, _largest), subwidget)
            in enumerate(zip(PARTS, subwidgets, strict=True))
            # seconds only for a value that has them
            if index != SECONDS or subwidget["value"] not in (None, "", "0")
        ]
        return format_html(
            '<span class="duration-parts" role="group" aria-label="{}">{}</span>',
            self.group_label,
            format_html_join(" ", '<label class="duration-part">{} <span>{}</span></label>',
                             shown))


class DurationPartsField(forms.MultiValueField):
    """A timedelta from whole days, hours, minutes and seconds; blank parts count as zero."""

    widget = DurationPartsWidget

    def __init__(self, **kwargs: Any) -> None:
        fields = tuple(
            forms.IntegerField(required=False, min_value=0, max_value=largest,
                               error_messages=_part_errors(label, largest))
            for _suffix, label, largest in PARTS)
        super().__init__(fields, require_all_fields=False, **kwargs)
        self.widget.group_label = self.label or ""

    def compress(self, data_list: list[int | None]) -> timedelta | None:
        if not data_list or all(part is None for part in data_list):
            return None
        days, hours, minutes, seconds = (part or 0 for part in data_list)
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _part_errors(label: Any, largest: int | None) -> dict[str, Any]:
    errors = {"invalid": _("%(unit)s须填整数。") % {"unit": label},
              "min_value": _("%(unit)s不能为负数。") % {"unit": label}}
    if largest is not None:
        errors["max_value"] = _("%(unit)s最多填 %(limit)s。") % {"unit": label, "limit": largest}
    return errors


ADMIN_DURATION_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.DurationField: {"form_class": DurationPartsField},
}
