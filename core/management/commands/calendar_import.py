"""Add to the holiday table the years the installed chinese-calendar knows and the table lacks.

After upgrading the package (a release that knows the next year), run this once; years already
in the table, whether seeded or entered by hand in the admin, are left as they are.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from core.workdays import calendar_import_package, calendar_status


class Command(BaseCommand):
    help = "从 chinese-calendar 导入节假日表尚未录入的年份（已有年份不变）。"

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            years = calendar_import_package()
        added = "、".join(str(year) for year in years) or "无"
        status = calendar_status()
        end = status.end.isoformat() if status.end else "—"
        self.stdout.write(f"新增年份：{added}；节假日表录入至 {end}。")
