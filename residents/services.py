"""Writes for households, residents and party members: the Excel/CSV imports (party members'
import is governance.services.party_members_import: it names the party organisation).

An import is all or nothing: the file is checked row by row and, if any row is bad, nothing
is written and the report lists every bad row (row number as seen in Excel, column, message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.formats import base_formats
from tablib.core import Dataset

from core.exceptions import ApplicationError, PermissionDeniedError
from core.scope import scope_path, scope_q
from residents.models import PartyMember, Resident
from residents.resources import (
    HouseholdResource,
    ResidentResource,
    ScopedResource,
)
from residents.rules import Viewer

# The readers (stateless) of the formats an import accepts.
FORMATS: dict[str, base_formats.TablibFormat] = {"xlsx": base_formats.XLSX(),
                                                 "csv": base_formats.CSV()}
MAX_ROWS = 20_000
HEADER_ROWS = 1  # data row N of the dataset is line N + 1 of the sheet


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        where = _("第 %(row)s 行") % {"row": self.row} if self.row else _("文件")
        column = f"「{self.field}」" if self.field else ""
        return f"{where}{column}：{self.message}"


@dataclass
class ImportReport:
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> int:
        return self.created + self.updated if self.is_ok else 0


def dataset_read(*, file: IO[bytes] | bytes, format: str) -> Dataset:
    """Read an uploaded xlsx or csv into a tablib Dataset; bad files raise ApplicationError."""
    file_format = FORMATS.get(format.lower().lstrip("."))
    if file_format is None:
        raise ApplicationError(_("只支持 xlsx 或 csv 文件。"))
    content = file if isinstance(file, bytes) else file.read()
    try:
        if isinstance(file_format, base_formats.CSV):
            dataset: Dataset = file_format.create_dataset(content.decode("utf-8-sig"))
        else:
            dataset = file_format.create_dataset(content)
    except UnicodeDecodeError:
        raise ApplicationError(_("CSV 文件须为 UTF-8 编码。")) from None
    except Exception:  # openpyxl and tablib raise many kinds for a damaged file
        raise ApplicationError(_("无法读取该文件，请检查格式。")) from None
    if len(dataset) > MAX_ROWS:
        raise ApplicationError(_("一次最多导入 %(max)s 行。") % {"max": MAX_ROWS})
    return dataset


def import_report(result: Any, resource: ScopedResource) -> ImportReport:
    """Turn an import-export Result into per-row errors keyed by the Chinese column name."""
    report = ImportReport(total_rows=result.total_rows,
                          created=result.totals.get("new", 0),
                          updated=result.totals.get("update", 0))
    for error in result.base_errors:
        report.errors.append(RowError(row=0, field="", message=str(error.error)))
    for invalid in result.invalid_rows:
        for key, messages in invalid.error_dict.items():
            column = "" if key == NON_FIELD_ERRORS else resource.column_for(key)
            report.errors.extend(RowError(row=invalid.number + HEADER_ROWS, field=column,
                                          message=str(message)) for message in messages)
    for number, errors in result.row_errors():
        report.errors.extend(RowError(row=number + HEADER_ROWS, field="",
                                      message=_("保存失败：%s") % error.error) for error in errors)
    report.errors.sort(key=lambda error: (error.row, error.field))
    return report


def file_import(resource_class: type[ScopedResource], *, file: IO[bytes] | bytes, format: str,
                actor: Viewer) -> ImportReport:
    """1. check the actor may import; 2. read the file; 3. import every row in one transaction;
    4. if any row failed, roll the whole file back and return the errors."""
    if scope_path(actor) is None:
        raise PermissionDeniedError(_("您没有导入居民资料的权限。"))
    dataset = dataset_read(file=file, format=format)
    resource = resource_class(actor=actor)
    with transaction.atomic():
        # see UNTYPED_SUPER (residents.resources): import_data is import-export's
        result = resource.import_data(  # type: ignore[no-untyped-call]
            dataset, dry_run=False, raise_errors=False, use_transactions=True,
            rollback_on_validation_errors=True)
        report = import_report(result, resource)
        if not report.is_ok:
            transaction.set_rollback(True)
    return report


def households_import(*, file: IO[bytes] | bytes, format: str,
                      actor: Viewer) -> ImportReport:
    """Households by 小区/楼号/单元/门牌号 (a missing unit of an existing building is created)."""
    return file_import(HouseholdResource, file=file, format=format, actor=actor)


def residents_import(*, file: IO[bytes] | bytes, format: str,
                     actor: Viewer) -> ImportReport:
    """Residents by address + 姓名 (an existing resident of that household is updated)."""
    return file_import(ResidentResource, file=file, format=format, actor=actor)


def party_members_publicity_set(*, member_ids: list[int], is_public: bool, actor: Viewer) -> int:
    """Show or hide members on the 亮身份 board; only members in the actor's scope change, and
    only members whose consent is recorded (public_consent_on) are shown: publicity is opt-in.

    One UPDATE whatever the number of members; returns how many rows changed.
    """
    if scope_path(actor) is None:
        raise PermissionDeniedError(_("您没有修改党员资料的权限。"))
    with transaction.atomic():
        queryset = PartyMember.objects.filter(pk__in=member_ids).filter(
            scope_q(actor, f"resident__{Resident.SCOPE_PATH}"))
        if is_public:
            queryset = queryset.filter(public_consent_on__isnull=False)
        return PartyMember.objects.filter(pk__in=queryset.values("pk")).exclude(
            is_public=is_public).update(is_public=is_public, updated_at=timezone.now())
