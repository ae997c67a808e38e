"""The lanes that must run everything fail on a skip (tests/skip_guard.py), make test does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
A_SKIPPING_MODULE = """
import pytest

def test_runs():
    pass

@pytest.mark.skip(reason="chromium is not installed")
def test_needs_a_browser():
    pass
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_lane.py").write_text(A_SKIPPING_MODULE, encoding="utf-8")
    # Only the guard: no Django, no project conftest (the module lives outside tests/).
    return subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.skip_guard", "-p", "no:django",
         "-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest",
         "-p", "no:faker", "-p", "no:anyio", "-p", "no:xdist", str(tmp_path / "test_lane.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", **env})


def test_a_lane_that_must_run_everything_fails_on_a_skip_and_says_which(tmp_path):
    result = _run(tmp_path, FAIL_ON_SKIP="1")
    assert result.returncode == 1, result.stdout
    assert "unexpected skips" in result.stdout
    assert "test_needs_a_browser: Skipped: chromium is not installed" in result.stdout
    # make test (no flag) only reports it.
    result = _run(tmp_path, FAIL_ON_SKIP="0")
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
