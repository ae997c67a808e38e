"""The embedded default: SQLite, the filesystem broker, DEBUG on, a dev secret."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: F403
