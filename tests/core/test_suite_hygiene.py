"""Checks on the test suite itself.

A bare `pytest.raises(ApplicationError)` is satisfied by any refusal of the project: a scope
refusal or a validation of an unrelated field passes a test meant for a business rule. So
every `pytest.raises` of a project error names the message it means with `match=`.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

from django.conf import settings

from core.exceptions import ApplicationError

TESTS_DIR = Path(__file__).resolve().parents[1]
PROJECT_APPS = (
    "core",
    "accounts",
    "notifications",
    "territory",
    "governance",
    "residents",
    "petitions",
    "deliberation",
    "volunteers",
)


def _import_project_modules() -> None:
    """Import every module of the project apps so that every error subclass is defined."""
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            if ".migrations" in info.name:
                continue
            importlib.import_module(info.name)


def _project_error_names() -> set[str]:
    _import_project_modules()
    names = {"ValidationError"}  # Django's (and DRF's), raised by services and serializers
    pending = [ApplicationError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


def _is_pytest_raises(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "raises"
        and isinstance(func.value, ast.Name)
        and func.value.id == "pytest"
    )


def _named_classes(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Tuple):
        return [name for element in node.elts for name in _named_classes(element)]
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    return []


def _bare_project_raises(error_names: set[str]) -> list[str]:
    found = []
    for path in sorted(TESTS_DIR.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "pytest.raises" not in source:  # most modules: no need to parse them
            continue
        tree = ast.parse(source, filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _is_pytest_raises(node) and node.args):
                continue
            if not error_names.intersection(_named_classes(node.args[0])):
                continue
            if any(keyword.arg == "match" for keyword in node.keywords):
                continue
            found.append(f"{path.relative_to(settings.BASE_DIR)}:{node.lineno}")
    return found


def test_every_pytest_raises_of_a_project_error_names_the_message_it_means() -> None:
    error_names = _project_error_names()
    assert {"PermissionDeniedError", "InvalidTransition", "RateLimited"} <= error_names

    bare = _bare_project_raises(error_names)

    assert bare == [], (
        "pytest.raises of a project error without match= (any refusal would satisfy it):\n"
        + "\n".join(bare)
    )
