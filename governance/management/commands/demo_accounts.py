"""Print the demo accounts of every role, and where each one signs in."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import User
from governance.demo import DEMO_PASSWORD, HOTLINE_USERNAME, RESIDENT_PHONE

# username → (role, where to go)
ACCOUNTS = [
    ("street", "街道管理员 street admin", "/admin/ · /petitions/staff/"),
    ("community", "社区工作人员 community staff", "/admin/ · /petitions/staff/"),
    ("grid1", "专职网格员 grid worker", "/accounts/login/ → /petitions/staff/"),
    ("grid2", "专职网格员 grid worker", "/accounts/login/ → /petitions/staff/"),
    *[(f"micro{number}", "微网格员 micro-grid worker", "/accounts/login/ → /petitions/staff/")
      for number in range(1, 6)],
    ("resident", "居民 resident", "/accounts/phone/ → /petitions/"),
    (HOTLINE_USERNAME, "外部系统 external system", "/api/v1/ · /api/docs/"),
]


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, size: int) -> str:
    return text + " " * max(0, size - width(text))


class Command(BaseCommand):
    help = "列出演示账户（每种角色一个）及登录方式。"

    def handle(self, *args: Any, **options: Any) -> None:
        users = {user.username: user for user in User.objects.filter(
            username__in=[username for username, _, _ in ACCOUNTS]).select_related("scope_area")}
        if not users:
            self.stdout.write("还没有演示账户：先运行 python manage.py load_demo")
            return
        rows = [("用户名 username", "角色 role", "密码 / 登录方式 password", "范围 scope",
                 "入口 URL")]
        for username, role, url in ACCOUNTS:
            user = users.get(username)
            if user is None:
                continue
            rows.append((username, f"{role}（{user.display_name}）", self._secret(username),
                         user.scope_area.name if user.scope_area else "—", url))
        sizes = [max(width(row[column]) for row in rows) for column in range(len(rows[0]))]
        line = "-+-".join("-" * size for size in sizes)
        self.stdout.write("演示账户 Demo accounts — http://127.0.0.1:8000")
        for index, row in enumerate(rows):
            self.stdout.write(" | ".join(pad(cell, size) for cell, size in zip(row, sizes,
                                                                             strict=True)))
            if index == 0:
                self.stdout.write(line)
        self.stdout.write(
            "*  居民在 /accounts/phone/ 用手机验证码登录；验证码打印在本控制台。"
            "Residents sign in by SMS code; the code is printed in this console.\n"
            "** API key 只在 load_demo 首次运行时打印一次（请求头 Authorization: Api-Key <key>）。"
            "The key is printed once, by the first load_demo."
        )

    @staticmethod
    def _secret(username: str) -> str:
        if username == "resident":
            return f"手机验证码登录 {RESIDENT_PHONE} *"
        if username == HOTLINE_USERNAME:
            return "API key **"
        return DEMO_PASSWORD
