from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import ApiKey, User
from petitions import services
from petitions.models import Category, Petition
from tests.accounts.factories import UserFactory


def category(name: str = "环境卫生") -> Category:
    # get_or_create: a transactional test's flush removes the rows seeded by the migration.
    return Category.objects.get_or_create(name=name, parent=None)[0]


def photo(name: str = "photo.jpg", *, color: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def submit(actor: User | None, **fields: Any) -> Petition:
    """A petition through the real service (so every clock is set as in production)."""
    fields.setdefault("category", category())
    fields.setdefault("description", "楼道里堆满了杂物，影响通行")
    if actor is None:
        fields.setdefault("contact_phone", "13700000000")
    return services.petition_submit(actor=actor, **fields)


def external_system(*, username: str = "hotline12345", webhook_url: str = "",
                    secret: str = "s3cret") -> User:  # noqa: S107
    user = UserFactory(username=username, role=User.Role.EXTERNAL_SYSTEM,
                       display_name="12345 热线")
    prefix, _raw = ApiKey.generate()
    ApiKey.objects.create(name=username, prefix=prefix, key_hash="x", user=user,
                          webhook_url=webhook_url, webhook_secret=secret)
    return user


def resolve_after_visit(*, petition_id: int, actor: User, **fields: Any) -> Petition:
    """办结 as the holder does it: checked in on site first (petition_resolve refuses a round
    with neither a check-in nor a recorded no-visit reason such as 电话办结)."""
    services.petition_check_in(petition_id=petition_id, actor=actor)
    return services.petition_resolve(petition_id=petition_id, actor=actor, **fields)
