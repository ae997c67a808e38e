"""The OpenAPI schema: drf-spectacular emits no warning (for the whole project), the petitions
endpoints are in it, and docs/openapi.yaml is regenerated when the petitions API changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    # --fail-on-warn raises on any warning or error, whichever app caused it.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return path


def _load(path: Path) -> dict:
    # The C loader when PyYAML has it: the whole-project schema is thousands of lines.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506


def _petition_paths(schema: dict) -> dict:
    return {path: item for path, item in schema["paths"].items()
            if path.startswith("/api/v1/petition")}


def test_the_schema_has_no_warnings_and_documents_every_transition(schema_file):
    paths = _petition_paths(_load(schema_file))
    actions = {path.rstrip("/").rsplit("/", 1)[-1] for path in paths}
    assert actions >= {"petitions", "{id}", "triage", "dispatch", "check-in", "notes", "resolve",
                       "verify", "rate", "reopen", "return", "reroute", "reject", "escalate",
                       "refer", "close"}
    submit = paths["/api/v1/petitions/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in submit


def test_the_committed_schema_matches_the_petitions_api(schema_file):
    generated = _petition_paths(_load(schema_file))
    committed = _petition_paths(_load(COMMITTED))
    # Regenerate with: DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python manage.py
    #                  spectacular --validate --fail-on-warn --file docs/openapi.yaml
    assert committed == generated


def test_the_docs_page_and_schema_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
