"""Encryption at rest of personal data (PIPL): Fernet tokens with key rotation, and a keyed
blind index so an encrypted value can still be found by its exact value.

Keys come from the environment (config/settings/base.py): FIELD_ENCRYPTION_KEYS is a
comma-separated list of Fernet keys, the first encrypts and all of them decrypt (MultiFernet),
so a key is rotated by putting a new one first and running `manage.py encryption_rotate`.
FIELD_BLIND_INDEX_KEY keys the HMAC of the blind index; it is never rotated lightly, since every
digest would have to be recomputed. Outside production both default to keys derived from
SECRET_KEY; production refuses to start without real ones (config/refusal.py), and `check
--deploy` reports them too (keys_deploy_check below).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from core.refusal import GENERATE_FERNET_KEY, is_fernet_key

# Every Fernet token starts with the version byte 0x80, which base64 writes as "gAAAAA".
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 (a format marker, not a secret)


def derived_key(purpose: str) -> str:
    """A development key derived from SECRET_KEY (refused in production by core.checks)."""
    digest = hashlib.sha256(f"portal:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _is_production() -> bool:
    return getattr(settings, "DJANGO_ENV", "") == "production"


def encryption_keys() -> tuple[str, ...]:
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or ())
    if not keys and _is_production():
        # Never write personal data under a derived key in production (core.E102 says why).
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set in production.")
    return keys or (derived_key("field-encryption"),)


def blind_index_key() -> bytes:
    key = getattr(settings, "FIELD_BLIND_INDEX_KEY", "")
    if not key and _is_production():
        raise ImproperlyConfigured("FIELD_BLIND_INDEX_KEY must be set in production.")
    return (key or derived_key("blind-index")).encode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(encryption_keys())


def encrypt(text: str) -> str:
    """A Fernet token for `text`; the empty string stays empty (nothing to hide, and the
    bulk loaders can leave the column empty)."""
    if not text:
        return text
    return fernet().encrypt(text.encode()).decode()


def encrypt_many(texts: list[str]) -> list[str]:
    """The same, for a batch: one key lookup for all rows."""
    cipher = fernet()
    return [cipher.encrypt(text.encode()).decode() if text else text for text in texts]


def decrypt(stored: str) -> str:
    """The text of a token. A value that is not a token is returned as it is: a row written
    before its column was encrypted (the data migrations encrypt them all; this only keeps a
    stray one readable). A token under an unknown key raises InvalidToken, loudly."""
    if not stored or not stored.startswith(TOKEN_PREFIX):
        return stored
    return fernet().decrypt(stored.encode()).decode()


def rotate(stored: str) -> str:
    """The token re-encrypted under the first key (MultiFernet.rotate)."""
    if not stored or not stored.startswith(TOKEN_PREFIX):
        return encrypt(stored)
    return fernet().rotate(stored.encode()).decode()


def blind_index(value: str) -> str:
    """HMAC-SHA256 of the normalised value: equal values give equal digests, and without the
    key a digest cannot be tested against the few billion possible ID numbers."""
    normalised = (value or "").strip().upper()
    if not normalised:
        return ""
    return hmac.new(blind_index_key(), normalised.encode(), hashlib.sha256).hexdigest()


def table_encrypt(connection: Any, *, table: str, columns: list[str], digests: dict[str, str]
                  | None = None, decrypting: bool = False, rotating: bool = False,
                  batch_size: int = 2000) -> int:
    """Encrypt (or, reversing a migration, decrypt) `columns` of every row of `table` in place,
    filling each `digests` column (digest column → source column) from the plaintext.

    Raw SQL on purpose: a data migration must not depend on what the model's fields do today.
    Rows are read by primary key in batches; values already in the target form are left alone,
    so the migration can run again after a failure. `rotating` re-encrypts every token under
    the first key (after a new key was put first in FIELD_ENCRYPTION_KEYS).
    """
    digests = digests or {}
    quote = connection.ops.quote_name
    selected = ", ".join(quote(column) for column in columns)
    assignments = ", ".join(f"{quote(column)} = %s" for column in [*columns, *digests])
    select_sql = (f"SELECT id, {selected} FROM {quote(table)} "  # noqa: S608
                  f"WHERE id > %s ORDER BY id LIMIT {int(batch_size)}")
    update_sql = f"UPDATE {quote(table)} SET {assignments} WHERE id = %s"  # noqa: S608
    changed, last_id = 0, 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(select_sql, [last_id])
            rows = cursor.fetchall()
            if not rows:
                return changed
            updates = []
            for row_id, *values in rows:
                plain = [decrypt(value or "") for value in values]
                if not any(plain):
                    continue
                stored = plain if decrypting else [
                    rotate(value) if rotating else
                    value if (value or "").startswith(TOKEN_PREFIX) else encrypt(text)
                    for value, text in zip(values, plain, strict=True)]
                by_column = dict(zip(columns, plain, strict=True))
                digest_values = [("" if decrypting else blind_index(by_column[source]))
                                 for source in digests.values()]
                updates.append((*stored, *digest_values, row_id))
            cursor.executemany(update_sql, updates)
            changed += len(updates)
            last_id = rows[-1][0]


# --- system checks ---------------------------------------------------------------------------

@checks.register(checks.Tags.security)
def keys_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every configured key must be a valid Fernet key (else nothing can be read or written)."""
    errors: list[checks.CheckMessage] = []
    for index, key in enumerate(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or ()):
        if not is_fernet_key(key):
            errors.append(checks.Error(
                f"FIELD_ENCRYPTION_KEYS[{index}] is not a Fernet key (32 url-safe base64 bytes).",
                hint=f"Generate one with: {GENERATE_FERNET_KEY}", id="core.E101"))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def keys_deploy_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """In production the keys must be real ones, not derived from SECRET_KEY: a leaked or
    rotated SECRET_KEY must not expose or lose the encrypted personal data. (Production
    settings refuse to load without them, config/refusal.py; this reports settings changed
    after start-up.)"""
    if not _is_production():
        return []
    errors: list[checks.CheckMessage] = []
    if not getattr(settings, "FIELD_ENCRYPTION_KEYS", None):
        errors.append(checks.Error(
            "FIELD_ENCRYPTION_KEYS is not set: personal data would be encrypted with a key "
            "derived from SECRET_KEY.", id="core.E102"))
    if not getattr(settings, "FIELD_BLIND_INDEX_KEY", ""):
        errors.append(checks.Error(
            "FIELD_BLIND_INDEX_KEY is not set: ID-number digests would be keyed with a key "
            "derived from SECRET_KEY.", id="core.E103"))
    return errors
