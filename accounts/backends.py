"""The password and phone-code sign-in's backend: Django's ModelBackend, reading the user of a
session together with their scope area.

Every staff page and API call reads the user's scope (core.scope.scope_path); Django's
get_user loads the user alone, and the scope area came after in a second query (0.3 ms of CPU
a request, and a database round trip). The statement is compiled once per thread
(core.queries.instance_by_pk): building and compiling the join cost 0.6 ms of each request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import backends

from accounts.models import User
from core.queries import instance_by_pk

# The path sessions record (BACKEND_SESSION_KEY); login() calls name it.
MODEL_BACKEND = "accounts.backends.ModelBackend"


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = instance_by_pk(User, user_id, select_related=("scope_area",))
        return user if user is not None and self.user_can_authenticate(user) else None
