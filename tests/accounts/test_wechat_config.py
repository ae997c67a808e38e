"""WeChat's configuration: all of it or none (production refuses half, the system check
reports it), from the environment with _FILE variants; `make run` needs none of it."""

from __future__ import annotations

import pytest

from accounts.checks import wechat_check
from config.refusal import problems
from tests.core.production_env import GOOD_SETTINGS

WHOLE = {"WECHAT_APP_ID": "wx0123456789abcdef", "WECHAT_APP_SECRET": "s" * 32,
         "WECHAT_TEMPLATES": {"petition_status": "TPL-1"}}


def test_production_starts_with_wechat_wholly_configured_or_not_at_all():
    assert problems(GOOD_SETTINGS) == []
    assert problems({**GOOD_SETTINGS, **WHOLE}) == []


@pytest.mark.parametrize(("change", "says"), [
    ({"WECHAT_APP_SECRET": ""}, "WECHAT_APP_SECRET is empty"),
    ({"WECHAT_APP_ID": ""}, "WECHAT_APP_ID is empty"),
    ({"WECHAT_TEMPLATES": {"petition_status": ""}}, "WECHAT_TEMPLATE_PETITION_STATUS is empty"),
    ({"WECHAT_APP_ID": "", "WECHAT_APP_SECRET": ""}, "WECHAT_APP_ID, WECHAT_APP_SECRET are"),
])
def test_production_refuses_half_a_wechat_configuration(change, says):
    [problem] = problems({**GOOD_SETTINGS, **WHOLE, **change})
    assert says in problem
    assert WHOLE["WECHAT_APP_SECRET"] not in problem


def test_the_system_check_reports_half_a_configuration(settings):
    assert wechat_check() == []  # the test settings: none of it
    settings.WECHAT_APP_ID = "wx0123456789abcdef"
    [error] = wechat_check()
    assert error.id == "accounts.E003"
    assert "WECHAT_APP_SECRET" in error.msg


def test_the_secret_is_read_from_its_file(tmp_path, monkeypatch):
    from config.settings.base import env_secret

    secret_file = tmp_path / "wechat_secret"
    secret_file.write_text("from-the-file\n")
    monkeypatch.setenv("WECHAT_APP_SECRET_FILE", str(secret_file))
    assert env_secret("WECHAT_APP_SECRET", default="") == "from-the-file"
