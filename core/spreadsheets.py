"""Spreadsheet files for download: a CSV streamed row by row, an XLSX written in openpyxl's
write-only mode, and the one escape that keeps either from running a cell as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.workbook.workbook import Workbook

# A cell starting with one of these is a formula to Excel or WPS (in a CSV; in an XLSX openpyxl
# writes a string starting with "=" as one): an export writes it after an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def formula_escape(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, as inert text (OWASP: a leading ')."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _xlsx_cell(value: Any) -> Any:
    """The control characters XML 1.0 cannot hold (openpyxl refuses the whole file) dropped."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return formula_escape(value)


class _Echo:
    """A file that hands back what is written to it: csv.writer's output, one line at a time."""

    def write(self, value: str) -> str:
        return value


def csv_response(*, filename: str, header: Sequence[str],
                 rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """UTF-8 with a byte-order mark, which Excel needs to read Chinese from a CSV."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([formula_escape(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def xlsx_response(*, filename: str, title: str, header: Sequence[str],
                  rows: Iterable[Sequence[Any]]) -> HttpResponse:
    """A write-only workbook keeps no cell objects: memory grows with the file, not the rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    sheet.append(list(header))
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
