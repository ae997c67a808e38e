"""Reword the topics referred before the referral rule (issue 10): run once after upgrading."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deliberation.services.topics import referral_topics_redact


class Command(BaseCommand):
    help = "改写旧的诉求转议议题：去掉未公开或匿名诉求的原文和诉求人信息（可重复运行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        changed = referral_topics_redact()
        self.stdout.write(f"已改写 {changed} 个诉求转议议题。")
