from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl.styles import Font

class Cell:
    value: Any
    font: Font
    number_format: str

class ColumnDimension:
    width: float

class Worksheet:
    title: str
    max_row: int
    column_dimensions: dict[str, ColumnDimension]
    def append(self, iterable: Iterable[Any]) -> None: ...
    def __getitem__(self, key: str | int) -> Any: ...
    def iter_rows(self, min_row: int | None = None, max_row: int | None = None,
                  min_col: int | None = None, max_col: int | None = None,
                  values_only: bool = False) -> Iterator[tuple[Any, ...]]: ...
