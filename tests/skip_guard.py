"""A lane that must run everything fails on a skip nobody expected (FAIL_ON_SKIP=1).

`make test` may skip what needs a service it does not have (PostgreSQL-only tests, listed by
their reasons in SKIPS_ALLOWED); the services, browser and fuzz lanes start what they need, so a
skip there means a missing browser, server or feature, and the lane would pass without testing.
Registered by tests/conftest.py; under xdist the reports reach the controller, which decides.
"""

from __future__ import annotations

import os

import pytest

# Reasons (substrings) a lane that runs with FAIL_ON_SKIP=1 may still skip for, and why.
SKIPS_ALLOWED: dict[str, str] = {}

_unexpected: list[str] = []


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped or os.environ.get("FAIL_ON_SKIP") != "1":
        return
    if hasattr(report, "wasxfail"):
        return
    reason = _reason(report)
    if not any(allowed in reason for allowed in SKIPS_ALLOWED):
        _unexpected.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _unexpected:
        terminalreporter.section("unexpected skips (FAIL_ON_SKIP=1)", red=True)
        for line in _unexpected:
            terminalreporter.line(line)
