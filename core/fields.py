"""Model fields for personal data at rest (core.crypto): an encrypted text column and the
keyed blind index that lets an encrypted value be found by its exact value; and a natural sort
key for the building, unit and room numbers people type."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django import forms
from django.core.exceptions import FieldError
from django.db import models
from django.db.models import lookups

from core import crypto

# A field's set and get types, left open so django-stubs fills them per use (null or not).
_ST = TypeVar("_ST", contravariant=True)
_GT = TypeVar("_GT", covariant=True)

if TYPE_CHECKING:
    GenericCharField = models.CharField
    GenericTextField = models.TextField
else:
    # The stubs' fields are generic; Django's classes are not subscriptable at run time
    # (django_stubs_ext, which would make them so, is a development dependency only).
    class GenericCharField(models.CharField, Generic[_ST, _GT]):
        """models.CharField that a subclass may write as GenericCharField[_ST, _GT]."""

    class GenericTextField(models.TextField, Generic[_ST, _GT]):
        """models.TextField that a subclass may write as GenericTextField[_ST, _GT]."""


class EncryptedTextField(GenericTextField[_ST, _GT]):
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


class DerivedCharField(GenericCharField[_ST, _GT]):
    """A 64-character column computed from another field (`source`) on save: not edited, empty
    by default (also in the database, so bulk loaders may leave it out)."""

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


class BlindIndexField(DerivedCharField[_ST, _GT]):
    """HMAC-SHA256 of another field's value (core.crypto.blind_index), kept in step on save.

    `save(update_fields=[source])` must name this field too (Resident.save does it); a
    QuerySet.update() of the source must set it as well. The database default is the empty
    string, so bulk loaders (COPY) that leave the source empty need not name it.
    """

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        digest = crypto.blind_index(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, digest)
        return digest


_DIGIT_RUN = re.compile(r"([0-9]+)")


def natural_sort_key(text: str) -> str:
    """A key whose plain text order is the natural one: 2 before 10, numbers before letters.

    Each run of digits becomes its length (two digits) followed by the digits without leading
    zeros ("10号楼" → "0210号楼"); text between runs is kept, case-folded. Full-width digits
    count as digits.
    """
    parts = _DIGIT_RUN.split(unicodedata.normalize("NFKC", text).strip())
    key = []
    for index, part in enumerate(parts):
        if index % 2:
            digits = part.lstrip("0") or "0"
            key.append(f"{len(digits):02d}{digits}")
        else:
            key.append(part.casefold())
    return "".join(key)


class NaturalSortKeyField(DerivedCharField[_ST, _GT]):
    """natural_sort_key of another field's value, kept in step on save (and bulk_create).

    Order by it, then by the source field as a tie-break ("03" and "3" share a key). As with
    BlindIndexField, `save(update_fields=[source])` and a QuerySet.update() of the source must
    set it too; bulk loaders that write rows by SQL (COPY) must write it.

    On PostgreSQL the column is compared byte by byte (COLLATE "C"), as SQLite compares text:
    a language collation would skip the "-" of "1-2" and order keys differently.
    """

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        key = natural_sort_key(str(getattr(model_instance, self.source) or ""))[:self.max_length]
        setattr(model_instance, self.attname, key)
        return key
