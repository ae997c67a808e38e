"""The production smoke lane's data (ops/smoke.py runs this with the lane's environment).

Not a management command on purpose: nothing in the shipped packages may create users and
sign them in. It makes, through the real services where it matters:

- a street → community → grid → two micro-grids, a compound with two households in micro-grid
  one, and a second community with a grid worker of its own (an outsider);
- two residents with accounts, and the micro-grid worker who holds their petitions;
- petition A (resident one, one photo) and petition B (resident two, one photo), submitted
  through `petition_submit`, so each photo is re-encoded and stored as in production;
- petition C (resident one), its micro-grid deadline (and so its current one, `due_at`)
  moved into the past, for the real worker and beat to escalate;
- a signed-in session for each person.

It prints one JSON object (ops/smoke.py reads it).
"""

from __future__ import annotations

import io
import json
import os
import sys
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def _setup() -> None:
    import django

    from config.env import settings_module

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())
    django.setup()


def _photo(name: str, color: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _session(user: Any) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def _territory() -> dict[str, Any]:
    from residents.models import Household
    from territory.models import Area, Building, Compound, Unit

    street = Area.objects.add_root({"name": "冒烟街道", "kind": Area.Kind.STREET})
    community = Area.objects.add_child(street, {"name": "冒烟社区", "kind": Area.Kind.COMMUNITY})
    grid = Area.objects.add_child(community, {"name": "冒烟网格", "kind": Area.Kind.GRID})
    micro = Area.objects.add_child(grid, {"name": "冒烟微网格", "kind": Area.Kind.MICROGRID})
    other_community = Area.objects.add_child(
        street, {"name": "另一社区", "kind": Area.Kind.COMMUNITY})
    other_grid = Area.objects.add_child(
        other_community, {"name": "另一网格", "kind": Area.Kind.GRID})
    compound = Compound.objects.create(name="冒烟小区", community=community)
    building = Building.objects.create(compound=compound, micro_grid=micro, number="1")
    unit = Unit.objects.create(building=building, number="1")
    households = [Household.objects.create(building=building, unit=unit, room=room)
                  for room in ("0101", "0102")]
    return {"micro": micro, "other_grid": other_grid, "households": households}


def _people(territory: dict[str, Any]) -> dict[str, Any]:
    from accounts.models import User
    from residents.models import Resident

    people = {}
    for key, household, phone in (("resident", territory["households"][0], "13900000001"),
                                  ("neighbour", territory["households"][1], "13900000002")):
        user = User.objects.create_user(username=f"smoke-{key}", role=User.Role.RESIDENT,
                                        phone=phone, display_name=key)
        Resident.objects.create(household=household, name=key, phone=phone, user=user)
        people[key] = user
    people["staff"] = User.objects.create_user(
        username="smoke-micro", role=User.Role.MICROGRID_WORKER, scope_area=territory["micro"],
        display_name="微网格员")
    people["outsider"] = User.objects.create_user(
        username="smoke-outsider", role=User.Role.GRID_WORKER,
        scope_area=territory["other_grid"], display_name="另一网格员")
    return people


def main() -> None:
    _setup()
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from petitions.models import Category, Petition
    from petitions.services import petition_submit

    territory = _territory()
    people = _people(territory)
    category = Category.objects.filter(is_active=True, parent=None).order_by("id").first()

    def submit(user: Any, household: Any, photos: list[Any]) -> Petition:
        return petition_submit(actor=user, category=category, household=household,
                               description="楼道里堆满了杂物，影响通行", photos=photos)

    own = submit(people["resident"], territory["households"][0], [_photo("own.jpg", "red")])
    other = submit(people["neighbour"], territory["households"][1],
                   [_photo("other.jpg", "blue")])
    overdue = submit(people["resident"], territory["households"][0], [])
    past = timezone.now() - timedelta(minutes=1)
    Petition.objects.filter(pk=overdue.pk).update(due_at=past, microgrid_due_at=past)
    own_photo, other_photo = own.photos.get(), other.photos.get()
    print(json.dumps({
        "sessions": {key: _session(user) for key, user in people.items()},
        "own_photo": {"url": own_photo.image.url,
                      "path": default_storage.path(own_photo.image.name),
                      "holder": own.holder.username if own.holder else None},
        "other_photo": {"url": other_photo.image.url},
        "overdue": {"id": overdue.pk, "tier": overdue.tier},
    }))


if __name__ == "__main__":
    main()
