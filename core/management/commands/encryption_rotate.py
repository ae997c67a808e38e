"""Re-encrypt every encrypted column under the first key of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first, keep the old ones after it, deploy, run this command, then
drop the old keys. Safe to run again (each run rewrites the tokens under the current first key).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core.crypto import table_encrypt
from core.fields import EncryptedTextField


class Command(BaseCommand):
    help = "用当前第一把密钥重新加密所有加密字段（密钥轮换）。"

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            # A concrete field always has a column; the stubs' `str | None` covers the others.
            columns = [field.column for field in model._meta.concrete_fields
                       if isinstance(field, EncryptedTextField) and field.column is not None]
            if not columns:
                continue
            with transaction.atomic():
                count = table_encrypt(connection, table=model._meta.db_table, columns=columns,
                                      rotating=True)
            self.stdout.write(f"{model._meta.label}: {count}")
