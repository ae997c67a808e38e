"""The backup restore drill (ops/restore_drill.py, docs/operations.md) on the CI's PostgreSQL.

The drill builds a demo database, dumps it with pg_dump -Fc, restores it into another and
compares every table's row count, the id sequences and the migrations; it drops both databases
whatever happens. Its databases are named after the test database's server settings
(DATABASE_URL's name + `_drill_…`), so two lanes on one server do not collide.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest

pytestmark = [
    pytest.mark.integration,
    # No test here touches the test database, but the lane's session fixtures seed it: ask for
    # it, or pytest-django leaves DATABASE_URL's own database in place and the seeding fails.
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL"),
]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "restore_drill.py"
TIME_LIMIT = 90  # the drill's own bound; ≈ 15 s on an idle 2-core box, 60 s at load average 11


def load_drill() -> ModuleType:
    spec = importlib.util.spec_from_file_location("restore_drill", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_drill_restores_every_row_of_a_demo_database() -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    server = f"{url.scheme}://{url.netloc}"
    prefix = f"{url.path.lstrip('/') or 'portal'}_drill"
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    environment.update(DJANGO_ENV="local", DEBUG="false", DATABASE_URL="")
    completed = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(SCRIPT), "--pg", server, "--prefix", prefix,
         "--timeout", str(TIME_LIMIT)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=TIME_LIMIT + 30,
        check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "restore drill: OK" in completed.stdout
    # The demo really was there to restore (not two empty schemas compared).
    assert "petitions_petition 0," not in completed.stdout
    import psycopg

    with psycopg.connect(f"{server}/postgres") as connection:
        left = connection.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                  [f"{prefix}%"]).fetchall()
    assert left == []


def test_the_comparison_reports_a_lost_row_a_lost_table_and_a_sequence_gone_back() -> None:
    drill = load_drill()
    source = {"accounts_user": 11, "petitions_petition": 60, "django_migrations": 68}
    restored = {"accounts_user": 11, "petitions_petition": 59}
    differences = drill.compare(source, restored, require_data=False)
    assert differences == [
        "table django_migrations is missing from the restored copy",
        "petitions_petition: 60 rows in the source, 59 restored",
    ]
    assert drill.compare(source, dict(source), require_data=False) == []
    problems = drill.sequence_problems({"petitions_petition_id_seq": 61},
                                       {"petitions_petition_id_seq": 1})
    assert problems == ["sequence petitions_petition_id_seq would hand out 1, the source was "
                        "at 61"]
