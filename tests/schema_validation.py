"""Every API answer of the test suite is checked against the OpenAPI schema (a pytest plugin).

The test client's `request` is wrapped: an answer to a /api/v1/ path that the schema documents
must have a documented status and, when it is JSON, a body that matches the documented schema.
A mismatch fails the test that made the request. The schema is generated once per process, on
the first API answer; the validators are compiled once per (operation, status).

A test that deliberately breaks the contract (none should) can opt out with
`@pytest.mark.no_schema_validation`.
"""

from __future__ import annotations

import json
import os
import re
import time
from functools import cache
from typing import Any

import jsonschema_rs
import pytest
from django.test.client import Client

API_PREFIX = "/api/v1/"
_ACTIVE = {"on": True}
# SCHEMA_VALIDATION_STATS=1 prints how many answers were checked and what it cost.
_STATS = {"answers": 0, "seconds": 0.0}


@cache
def _document() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    return _json_schema(json.loads(OpenApiJsonRenderer().render(document)))


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable` as JSON Schema (the rest of its dialect is JSON Schema)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False) is True:
        if "type" in node and not {"$ref", "allOf", "anyOf", "oneOf"} & node.keys():
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def _routes() -> list[tuple[re.Pattern[str], str]]:
    # Fewest parameters first, so /party-members/public/ is not read as /party-members/{id}/.
    templates = sorted(_document()["paths"], key=lambda template: template.count("{"))
    return [(re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"), template)
            for template in templates]


def _template(path: str) -> str | None:
    return next((template for pattern, template in _routes() if pattern.match(path)), None)


@cache
def _validator(template: str, method: str, status: str) -> Any:
    operation = _document()["paths"][template][method]
    content = operation["responses"][status].get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    return jsonschema_rs.validator_for({**schema, "components": _document()["components"]})


def check(method: str, path: str, status_code: int, content_type: str, body: bytes) -> None:
    template = _template(path)
    operation = _document()["paths"][template].get(method.lower()) if template else None
    if operation is None:
        return
    responses = operation["responses"]
    status = str(status_code)
    if status not in responses and "default" not in responses:
        raise AssertionError(f"{method} {path}: status {status} is not in the schema "
                             f"(documented: {', '.join(sorted(responses))})")
    if not content_type.startswith("application/json") or status not in responses:
        return
    validator = _validator(template, method.lower(), status)
    if validator is None:
        return
    instance = json.loads(body)
    if validator.is_valid(instance):
        return
    errors = [f"{'/'.join(map(str, error.instance_path))}: {error.message}"
              for error in validator.iter_errors(instance)]
    if errors:
        raise AssertionError(f"{method} {path} → {status}: the body breaks the schema: "
                             + "; ".join(errors[:5]))


_real_request = Client.request


def _checked_request(self: Client, **request: Any) -> Any:
    response = _real_request(self, **request)
    path = request.get("PATH_INFO", "")
    if _ACTIVE["on"] and path.startswith(API_PREFIX) and not getattr(response, "streaming", False):
        started = time.process_time()
        try:
            check(request.get("REQUEST_METHOD", "GET"), path, response.status_code,
                  response.get("Content-Type", ""), response.content)
        finally:
            _STATS["answers"] += 1
            _STATS["seconds"] += time.process_time() - started
    return response


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_schema_validation: skip the API schema check")
    Client.request = _checked_request


@pytest.fixture(autouse=True)
def _schema_validation_switch(request: pytest.FixtureRequest) -> Any:
    _ACTIVE["on"] = request.node.get_closest_marker("no_schema_validation") is None
    yield
    _ACTIVE["on"] = True


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if os.environ.get("SCHEMA_VALIDATION_STATS"):
        terminalreporter.write_line(f"schema validation: {_STATS['answers']} API answers checked "
                                    f"in {_STATS['seconds']:.2f} s of CPU (this process)")
