from __future__ import annotations

import os


def settings_module() -> str:
    """DJANGO_ENV picks the settings module: local (default), test or production."""
    mode = os.environ.get("DJANGO_ENV", "local")
    return {"production": "config.settings.production", "test": "config.settings.test"}.get(
        mode, "config.settings.local"
    )
