"""Model fields for personal data at rest (core.crypto): an encrypted text column and the
keyed blind index that lets an encrypted value be found by its exact value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import FieldError
from django.db import models
from django.db.models import lookups

from core import crypto


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token, read back as text.

    A token differs every time the same text is written, so the column can only be tested for
    being empty (`exact=""`, `isnull`); search an exact value through a BlindIndexField.
    """

    ALLOWED_LOOKUPS = frozenset({"exact", "isnull"})

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return crypto.decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        # Every write (save, bulk_create, bulk_update, update) comes through here.
        value = super().get_prep_value(value)
        return crypto.encrypt(value) if value else value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in self.ALLOWED_LOOKUPS:
            return None
        return super().get_lookup(lookup_name)

    def formfield(self, **kwargs: Any) -> Any:
        # A short value (an ID number) is edited in one line, like the CharField it replaced.
        if self.max_length and self.max_length <= 100:
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(**kwargs)


@EncryptedTextField.register_lookup
class EncryptedExact(lookups.Exact):
    """Only `= ""`: text compared with a fresh token would silently match nothing."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            raise FieldError("An encrypted field can only be compared with \"\"; "
                             "search by its blind index.")
        return super().get_prep_lookup()


class BlindIndexField(models.CharField):
    """HMAC-SHA256 of another field's value (core.crypto.blind_index), kept in step on save.

    `save(update_fields=[source])` must name this field too (Resident.save does it); a
    QuerySet.update() of the source must set it as well. The database default is the empty
    string, so bulk loaders (COPY) that leave the source empty need not name it.
    """

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("db_default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key in ("max_length", "editable", "blank", "default", "db_default"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        digest = crypto.blind_index(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, digest)
        return digest
