"""Excel/CSV import and export of households and residents (django-import-export); party
members' resource (governance.resources) builds on ScopedResource here.

Files carry natural keys in Chinese columns, never database ids: 小区 (compound name), 楼号,
单元, 门牌号; a party member is found by the resident's 手机号, or by 姓名 plus the address.
Every error is reported per row, keyed by the Chinese column name. The import only runs inside
`residents.services.*_import`, `governance.services.party_members_import` or the admin, all of
which roll the whole file back on any error.
Exports mask phones and ID numbers outside the viewer's scope (residents.selectors).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from core.masking import mask_id_number, mask_phone
from core.phones import phone_normalize
from core.scope import path_in_scope
from core.spreadsheets import FORMULA_STARTS, formula_escape
from residents.models import Household, Resident
from residents.rules import Viewer, personal_data_visible
from territory.models import Building, Unit

# [0-9], not \d: \d matches the digits of every script.
ID_NUMBER_PATTERN = re.compile(r"^[0-9]{17}[0-9Xx]$")
ADDRESS_COLUMNS = ("小区", "楼号", "单元", "门牌号")


# UNTYPED_SUPER: mypy takes a call into import-export (no types) made through super() or through
# one of our subclasses for a call into our own code: untyped_calls_exclude (pyproject.toml)
# names the library, and mypy matches it only against a call that names the library's class.
# The lines marked "see UNTYPED_SUPER" (here, in residents.admin, residents.services and
# governance.resources) are such calls.


class CellWidget(widgets.Widget):
    """import-export's Widget with a typed constructor, so our widgets are built in typed code."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # see UNTYPED_SUPER


class YesNoWidget(widgets.BooleanWidget):
    """是/否 in the file; also accepts 1/0 and true/false."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # see UNTYPED_SUPER

    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "是", "Y", "y"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "否", "N", "n"]

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        text = str(value).strip() if value is not None else ""
        if text in ("", "None"):
            return False
        if text not in [str(item) for item in self.TRUE_VALUES + self.FALSE_VALUES]:
            raise ValueError(_("请填“是”或“否”。"))
        return text in [str(item) for item in self.TRUE_VALUES]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return _("是") if value else _("否")


class ChoiceLabelWidget(CellWidget):
    """A TextChoices value shown by its Chinese label (男 ↔ M, 自管党员 ↔ self_managed)."""

    def __init__(self, choices: list[tuple[str, Any]], *, required: bool = False) -> None:
        super().__init__()
        self.by_label = {str(label): value for value, label in choices}
        self.labels = {value: str(label) for value, label in choices}
        self.required = required

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = str(value or "").strip()
        if not text:
            if self.required:
                raise ValueError(_("必须填写。"))
            return ""
        if text in self.by_label:
            return self.by_label[text]
        if text in self.labels:
            return text
        raise ValueError(_("应为以下之一：%s") % "、".join(self.by_label))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return self.labels.get(value, value or "")


class TextWidget(CellWidget):
    """A text cell; an empty cell is "" (the text columns are NOT NULL)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return text(value)


class YearWidget(CellWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
        cell = text(value)
        if not cell:
            return None
        if not cell.isdigit() or not 1900 <= int(cell) <= 2100:
            raise ValueError(_("应为四位数的年份，如 1965。"))
        return int(cell)


class DateWidget(widgets.DateWidget):
    """A date as a Chinese sheet writes it (2001-07-01, 2001/7/1, 2001.7.1, 2001年7月1日); an
    xlsx date cell arrives as a date already. import-export's own refusal is English only."""

    FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # see UNTYPED_SUPER
        self.formats = self.FORMATS

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> date | None:
        if isinstance(value, datetime):  # an xlsx date cell
            return value.date()
        try:
            # see UNTYPED_SUPER
            cleaned: date | None = super().clean(  # type: ignore[no-untyped-call]
                value.strip() if isinstance(value, str) else value, row, **kwargs)
        except ValueError:
            raise ValueError(_("应为日期，如 2001-07-01 或 2001/7/1。")) from None
        return cleaned


class TagsWidget(CellWidget):
    """Tags as Chinese labels separated by 、 , ， or ;."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        by_label = {str(label): tag for tag, label in Resident.Tag.choices}
        tags = []
        for part in re.split(r"[、,，;；\s]+", str(value or "").strip()):
            if not part:
                continue
            if part not in by_label and part not in Resident.Tag.values:
                raise ValueError(_("未知标签：%s") % part)
            tags.append(by_label.get(part, part))
        return tags

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        labels = dict(Resident.Tag.choices)
        return "、".join(str(labels.get(tag, tag)) for tag in value or [])


def text(value: Any) -> str:
    """A cell as text: Excel hands numbers over as int/float (楼号 1 → 1.0); the apostrophe an
    export put before a formula-like cell is taken off, so an exported file imports back."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    cell = str(value)
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        cell = cell[1:]
    return cell.strip()


class ScopedResource(resources.ModelResource):
    """Shared behaviour: the acting user, address lookups, Chinese error keys, masking, and
    exports no spreadsheet runs as formulae."""

    class Meta:
        # The admin's import preview shows each row's cells: skip_diff leaves no diff to show.
        store_row_values = True

    def __init__(self, *, actor: Viewer = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]  # see UNTYPED_SUPER
        self.actor = actor
        self._units: dict[tuple[str, str, str], Unit] | None = None
        self._households: dict[tuple[int, str], Household] | None = None
        self._residents: dict[int, dict[str, Resident]] = {}

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        # Every cell of every export passes here, whichever format the file is written in.
        # see UNTYPED_SUPER
        value = super().export_field(field, instance, **kwargs)  # type: ignore[no-untyped-call]
        return formula_escape(value)

    # -- errors keyed by the Chinese column names --------------------------------------------

    def column_for(self, key: str) -> str:
        for field in self.fields.values():
            if field.attribute == key or field.column_name == key:
                column: str = field.column_name
                return column
        return key

    # Relations the resource resolved itself from natural keys: full_clean need not re-query them.
    resolved_relations: tuple[str, ...] = ()

    def validate_instance(self, instance: Any, import_validation_errors: Any = None,
                          validate_unique: bool = True) -> None:
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, *self.resolved_relations],
                                validate_unique=validate_unique)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError({
                key if key == NON_FIELD_ERRORS else self.column_for(key): messages
                for key, messages in ValidationError(errors).message_dict.items()
            })

    # -- addresses ------------------------------------------------------------------------------

    def unit_for_row(self, row: dict[str, Any], *, create: bool = False) -> Unit:
        """The unit named by 小区/楼号/单元, checked against the actor's scope."""
        compound, number, unit_number = (text(row.get(column)) for column in ADDRESS_COLUMNS[:3])
        missing = {column: _("必须填写。") for column, value in
                   zip(ADDRESS_COLUMNS[:3], (compound, number, unit_number), strict=True)
                   if not value}
        if missing:
            raise ValidationError(missing)
        if self._units is None:
            self._units = {
                (unit.building.compound.name, unit.building.number, unit.number): unit
                for unit in Unit.objects.select_related("building__compound",
                                                        "building__micro_grid")
            }
        unit = self._units.get((compound, number, unit_number))
        if unit is None and create:
            unit = self._unit_create(compound, number, unit_number)
        if unit is None:
            raise ValidationError({"单元": _("找不到“%(address)s”。") % {
                "address": f"{compound} {number}号楼 {unit_number}单元"}})
        self.scope_check(unit.building)
        return unit

    def scope_check(self, building: Building) -> None:
        if not path_in_scope(self.actor, building.micro_grid.path):
            raise ValidationError({"楼号": _("%(number)s号楼不在您的管辖范围内。") % {
                "number": building.number}})

    def _unit_create(self, compound: str, number: str, unit_number: str) -> Unit:
        building = (Building.objects.select_related("compound", "micro_grid")
                    .filter(compound__name=compound, number=number).first())
        if building is None:
            raise ValidationError({"楼号": _("找不到“%(compound)s %(number)s号楼”。") % {
                "compound": compound, "number": number}})
        self.scope_check(building)
        unit = Unit.objects.create(building=building, number=unit_number)
        if self._units is not None:
            self._units[(compound, number, unit_number)] = unit
        return unit

    def household_for_row(self, row: dict[str, Any]) -> Household:
        unit = self.unit_for_row(row)
        room = text(row.get("门牌号"))
        if not room:
            raise ValidationError({"门牌号": _("必须填写。")})
        household = self.household_lookup(unit, room)
        if household is None:
            raise ValidationError({"门牌号": _("%(unit)s 没有门牌号 %(room)s。") % {
                "unit": unit, "room": room}})
        household.unit = unit
        return household

    # -- export ---------------------------------------------------------------------------------

    @staticmethod
    def address_of(household: Household) -> dict[str, str]:
        building = household.building
        return {"小区": building.compound.name, "楼号": building.number,
                "单元": household.unit.number, "门牌号": household.room}

    def household_lookup(self, unit: Unit, room: str) -> Household | None:
        if self._households is None:
            # One query for every household: a file names hundreds of them.
            self._households = {(household.unit_id, household.room): household
                                for household in Household.objects.all()}
        return self._households.get((unit.pk, room))

    def residents_of(self, household_id: int) -> dict[str, Resident]:
        """The household's residents by name (one query per household, not per row)."""
        if household_id not in self._residents:
            self._residents[household_id] = {
                resident.name: resident
                for resident in Resident.objects.filter(household_id=household_id)}
        return self._residents[household_id]

    def contact_of(self, resident: Resident, *, path: str | None = None) -> tuple[str, str]:
        path = path or getattr(resident, "area_path", None)
        if path is None:
            path = resident.household.building.micro_grid.path
        if personal_data_visible(self.actor, path):
            return resident.phone, resident.id_number
        return mask_phone(resident.phone), mask_id_number(resident.id_number)


def phone_check(value: str, *, column: str = "手机号") -> str:
    """The number as stored (core.phones: full width read as ASCII), or "" when blank."""
    if "*" in value:
        raise ValidationError({column: _("手机号含有“*”（打码导出的文件不能再导入）。")})
    if not value:
        return ""
    try:
        return phone_normalize(value)
    except ValidationError:
        raise ValidationError({column: _("手机号应为 11 位数字。")}) from None


class HouseholdResource(ScopedResource):
    resolved_relations = ("building", "unit")
    compound = fields.Field(column_name="小区", dehydrate_method="dehydrate_compound")
    building_number = fields.Field(column_name="楼号", dehydrate_method="dehydrate_building")
    unit_number = fields.Field(column_name="单元", dehydrate_method="dehydrate_unit")
    room = fields.Field(attribute="room", column_name="门牌号", widget=TextWidget())
    is_occupied = fields.Field(attribute="is_occupied", column_name="常住", widget=YesNoWidget())
    note = fields.Field(attribute="note", column_name="备注", widget=TextWidget())

    class Meta:
        model = Household
        fields = ("compound", "building_number", "unit_number", "room", "is_occupied", "note")
        skip_diff = True

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Household | None:
        unit = self.unit_for_row(row, create=True)
        room = text(row.get("门牌号"))
        if not room:
            raise ValidationError({"门牌号": _("必须填写。")})
        row["门牌号"] = room
        return self.household_lookup(unit, room)

    def init_instance(self, row: dict[str, Any] | None = None) -> Household:
        unit = self.unit_for_row(row or {})
        return Household(unit=unit, building=unit.building, is_occupied=True)

    def after_save_instance(self, instance: Household, row: dict[str, Any], **kwargs: Any) -> None:
        if self._households is not None:  # a later row of the same file finds this one
            self._households[(instance.unit_id, instance.room)] = instance

    def get_queryset(self) -> QuerySet[Household]:
        return Household.objects.select_related("building__compound", "unit")

    def dehydrate_compound(self, household: Household) -> str:
        return household.building.compound.name

    def dehydrate_building(self, household: Household) -> str:
        return household.building.number

    def dehydrate_unit(self, household: Household) -> str:
        return household.unit.number


class ResidentResource(ScopedResource):
    resolved_relations = ("household", "user")
    compound = fields.Field(column_name="小区", dehydrate_method="dehydrate_compound")
    building_number = fields.Field(column_name="楼号", dehydrate_method="dehydrate_building")
    unit_number = fields.Field(column_name="单元", dehydrate_method="dehydrate_unit")
    room = fields.Field(column_name="门牌号", dehydrate_method="dehydrate_room")
    name = fields.Field(attribute="name", column_name="姓名", widget=TextWidget())
    phone = fields.Field(attribute="phone", column_name="手机号", widget=TextWidget(),
                         dehydrate_method="dehydrate_phone")
    id_number = fields.Field(attribute="id_number", column_name="身份证号", widget=TextWidget(),
                             dehydrate_method="dehydrate_id_number")
    gender = fields.Field(attribute="gender", column_name="性别",
                          widget=ChoiceLabelWidget(Resident.Gender.choices))
    birth_year = fields.Field(attribute="birth_year", column_name="出生年份",
                              widget=YearWidget())
    tags = fields.Field(attribute="tags", column_name="标签", widget=TagsWidget())
    is_household_head = fields.Field(attribute="is_household_head", column_name="户主",
                                     widget=YesNoWidget())

    class Meta:
        model = Resident
        fields = ("compound", "building_number", "unit_number", "room", "name", "phone",
                  "id_number", "gender", "birth_year", "tags", "is_household_head")
        skip_diff = True

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        for column in ("姓名", "手机号", "身份证号"):
            row[column] = text(row.get(column))
        if not row["姓名"]:
            raise ValidationError({"姓名": _("必须填写。")})
        row["手机号"] = phone_check(row["手机号"])
        if "*" in row["身份证号"]:
            raise ValidationError({"身份证号": _("身份证号含有“*”（打码导出的文件不能再导入）。")})
        if row["身份证号"] and not ID_NUMBER_PATTERN.match(row["身份证号"]):
            raise ValidationError({"身份证号": _("身份证号应为 18 位。")})

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Resident | None:
        household = self.household_for_row(row)
        row["_household"] = household
        return self.residents_of(household.pk).get(row["姓名"])

    def init_instance(self, row: dict[str, Any] | None = None) -> Resident:
        return Resident(household=(row or {}).get("_household"))

    def after_save_instance(self, instance: Resident, row: dict[str, Any], **kwargs: Any) -> None:
        self.residents_of(instance.household_id)[instance.name] = instance

    def get_queryset(self) -> QuerySet[Resident]:
        return Resident.objects.select_related("household__building__compound",
                                               "household__building__micro_grid",
                                               "household__unit")

    def dehydrate_compound(self, resident: Resident) -> str:
        return resident.household.building.compound.name

    def dehydrate_building(self, resident: Resident) -> str:
        return resident.household.building.number

    def dehydrate_unit(self, resident: Resident) -> str:
        return resident.household.unit.number

    def dehydrate_room(self, resident: Resident) -> str:
        return resident.household.room

    def dehydrate_phone(self, resident: Resident) -> str:
        return self.contact_of(resident)[0]

    def dehydrate_id_number(self, resident: Resident) -> str:
        return self.contact_of(resident)[1]
