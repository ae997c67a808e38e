"""Create an external system's account and API key; the raw key is printed alone, last."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import api_key_create
from core.exceptions import ApplicationError
from territory.models import Area


def area_lookup(value: str) -> Area:
    """An Area by id, or by exact name when that name is unique."""
    if value.isdigit():
        area: Area | None = Area.objects.filter(pk=int(value)).first()
        if area is None:
            raise CommandError(f"找不到编号为 {value} 的区域。")
        return area
    matches: list[Area] = list(Area.objects.filter(name=value)[:2])
    if not matches:
        raise CommandError(f"找不到名为「{value}」的区域。")
    if len(matches) > 1:
        raise CommandError(f"有多个名为「{value}」的区域，请改用区域编号。")
    return matches[0]


class Command(BaseCommand):
    help = "为外部系统（如 12345 热线）创建账户和 API 密钥；最后一行单独输出密钥。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="系统名称，如「12345 热线」")
        parser.add_argument("--scope", metavar="AREA", help="管辖区域：区域编号或准确名称")

    def handle(self, *args: Any, **options: Any) -> None:
        scope_area = area_lookup(options["scope"]) if options["scope"] else None
        try:
            api_key, raw_key = api_key_create(name=options["name"], scope_area=scope_area)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        scope = f"，管辖范围：{scope_area.name}" if scope_area else ""
        self.stdout.write(f"已创建 API 密钥「{api_key.name}」（前缀 {api_key.prefix}{scope}）。"
                          "密钥只显示这一次，请妥善保存：")
        self.stdout.write(raw_key)
