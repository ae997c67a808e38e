"""The plugin that checks every API answer of the suite against the schema
(tests/schema_validation.py) can fail: an undocumented status and a bad body are refused."""

from __future__ import annotations

import json

import pytest

from tests.schema_validation import check


def test_a_documented_error_answer_passes():
    body = json.dumps({"code": "not_found", "message": "未找到。", "errors": {}}).encode()
    check("GET", "/api/v1/petitions/12/", 404, "application/json", body)


def test_an_undocumented_status_fails():
    with pytest.raises(AssertionError, match="status 418 is not in the schema"):
        check("GET", "/api/v1/petitions/12/", 418, "application/json", b"{}")


def test_a_body_that_breaks_the_schema_fails():
    body = json.dumps({"code": 1, "message": "未找到。"}).encode()
    with pytest.raises(AssertionError, match="breaks the schema"):
        check("GET", "/api/v1/petitions/12/", 404, "application/json", body)


def test_a_list_answer_with_a_wrong_row_fails():
    body = json.dumps({"next": None, "previous": None, "results": [{"id": "x"}]}).encode()
    with pytest.raises(AssertionError, match="breaks the schema"):
        check("GET", "/api/v1/petition-categories/", 200, "application/json", body)


def test_the_test_client_checks_every_api_answer(db, client, monkeypatch):
    from tests import schema_validation

    seen = []
    monkeypatch.setattr(schema_validation, "check", lambda *args: seen.append(args[:3]))
    client.get("/api/v1/me/")
    client.get("/healthz")
    assert seen == [("GET", "/api/v1/me/", 401)]
