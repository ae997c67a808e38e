"""Schemathesis against the API's own schema, in process (WSGI), on the demo data.

Every operation of /api/schema/ is called as each of the seven callers with generated input, valid
and invalid (schemathesis' positive and negative modes), half the time on the id of a real row.
Every answer must be free of server errors and conform to the schema: a documented status, the
documented content type and a body that matches the documented schema.

Budget (`-m fuzz tests/fuzz`): each operation × role first gets PROBE_EXAMPLES examples; if every
answer was 401 or 403 the caller cannot reach the operation and that is enough, otherwise it gets
EXAMPLES more (50; `FUZZ_EXAMPLES=200 make test-fuzz` for a deeper run: CI's 25 minutes hold
about 50, each example is ~9 ms of generating and calling on the 2-core box). The seed is fixed
(SEED), so a run is reproducible. Then the stateful phase.
What was spent is written to var/fuzz/examples-<pid>.tsv (operation, role, examples, statuses).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from tests.fuzz.conftest import ROLE_ACCOUNTS, keep_the_test_connection
from volunteers.models import ActivitySignup, ShiftSwap

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

SEED = 20240515
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
PROBE_EXAMPLES = min(EXAMPLES, 10)
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "20"))
STATEFUL_STEPS = 10
CLOSED = {401, 403}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Detail paths whose rows have no list endpoint of their own.
ID_MODELS = {"/api/v1/volunteers/signups/": ActivitySignup, "/api/v1/volunteers/swaps/": ShiftSwap}


def _load_schema() -> schemathesis.schemas.BaseSchema:
    document = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    schema.app = WSGIHandler()
    return schema


SCHEMA = _load_schema()
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


@cache
def _real_ids(list_path: str) -> tuple[int, ...]:
    """Ids of real rows behind `list_path` (as the street admin sees them), at most 8."""
    if list_path in ID_MODELS:
        return tuple(ID_MODELS[list_path].objects.values_list("id", flat=True)[:8])
    client = Client()
    client.force_login(User.objects.get(username=ROLE_ACCOUNTS["street_admin"]))
    response = client.get(list_path)
    if response.status_code != 200:
        return ()
    body = response.json()
    rows = body.get("results", []) if isinstance(body, dict) else body
    return tuple(row["id"] for row in rows if isinstance(row, dict) and "id" in row)[:8]


def _strategy(operation: Any) -> st.SearchStrategy:
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if "{id}" in operation.path:
        ids = _real_ids(operation.path.split("{id}")[0])
        strategies += [operation.as_strategy(generation_mode=mode, path_parameters={"id": pk})
                       for pk in ids for mode in modes]
        # Half the examples on a real row: random ids alone would only ever meet 404.
        if ids:
            return st.one_of(st.one_of(strategies[:2]), st.one_of(strategies[2:]))
    return st.one_of(strategies)


def _fuzz(operation: Any, credentials: dict[str, Any], examples: int) -> set[int]:
    statuses: set[int] = set()

    @hypothesis.seed(SEED)
    @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck), print_blob=True,
                         phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @hypothesis.given(case=_strategy(operation))
    def run(case: Any) -> None:
        response = case.call(**credentials)
        statuses.add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=credentials.get("headers"))

    keep_the_test_connection()
    run()
    return statuses


@pytest.mark.parametrize("role", list(ROLE_ACCOUNTS))
@pytest.mark.parametrize("label", list(OPERATIONS))
def test_every_answer_is_documented_and_none_is_a_server_error(
        label: str, role: str, role_headers: dict[str, dict[str, Any]]) -> None:
    operation = OPERATIONS[label]
    statuses = _fuzz(operation, role_headers[role], PROBE_EXAMPLES)
    examples = PROBE_EXAMPLES
    if not statuses <= CLOSED:
        examples += EXAMPLES
        statuses |= _fuzz(operation, role_headers[role], EXAMPLES)
    _record(label, role, examples, statuses)


def _record(label: str, role: str, examples: int, statuses: set[int]) -> None:
    """One line per operation × role in var/fuzz/ (one file a process): what the budget spent."""
    folder = Path(settings.BASE_DIR) / "var" / "fuzz"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"examples-{os.getpid()}.tsv").open("a", encoding="utf-8") as file:
        file.write(f"{label}\t{role}\t{examples}\t{','.join(map(str, sorted(statuses)))}\n")


@pytest.mark.parametrize("role", list(ROLE_ACCOUNTS))
def test_sequences_of_linked_calls_get_only_documented_answers(
        role: str, role_headers: dict[str, dict[str, Any]]) -> None:
    """The stateful phase: chains of calls along the links schemathesis infers (a created row's id
    fed to its detail and actions), STATEFUL_SCENARIOS scenarios of up to STATEFUL_STEPS calls."""
    credentials = role_headers[role]
    calls: list[tuple[str, int]] = []

    class Machine(SCHEMA.as_state_machine()):  # type: ignore[misc]
        # Every scenario starts from the same rows: hypothesis replays a prefix of choices and
        # requires the same draws, which rows changed by an earlier scenario (a petition merged
        # or accepted, so a later call answers 400 where it answered 200) would break
        # (FlakyStrategyDefinition). The calls run in this process, inside the test's
        # transaction, so a savepoint per scenario puts the rows back.
        def __init__(self) -> None:
            super().__init__()
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)
            super().teardown()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return credentials

        def after_call(self, response: Any, case: Any) -> None:
            calls.append((case.operation.label, response.status_code))

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=credentials.get("headers"))

    keep_the_test_connection()
    Machine.run(settings=hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS, deadline=None,
        database=None, suppress_health_check=list(HealthCheck), derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink]))
    chained = {label for label, status in calls if status < 400}
    print(f"stateful {role}: {len(calls)} calls, {len(chained)} operations answered 2xx")
    assert calls
