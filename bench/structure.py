"""The structure figures issue #14 asks for, printed for the checkout it runs in.

    .venv/bin/python bench/structure.py            # all figures (mypy takes ~10 s)
    .venv/bin/python bench/structure.py --no-mypy

Figures:
- upward imports: import statements (importer, imported module, line) that break the layer order
  of docs/architecture.md, a feature app importing another feature app included. Type-only imports
  (under ``if TYPE_CHECKING:``) are left out, as the import-linter contract leaves them out.
- imports inside functions: ruff's PLC0415 over the apps (tests, bench and ops left out), and how
  many of them carry a ``# noqa: PLC0415`` with a reason (the documented allow-list).
- mypy errors: ``mypy`` with the strict settings of pyproject.toml over the apps.
- duplicated patterns: lines matching each of the patterns the issue counted.
- the largest modules of the apps (migrations left out).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the apps, whatever the editable install of the venv lists
PYTHON = Path(sys.executable)
BIN = PYTHON.parent

# Top to bottom; apps on one line are siblings that may not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("config",),
    ("reports",),
    ("privacy",),
    ("petitions", "deliberation", "volunteers"),
    ("governance",),
    ("residents",),
    ("accounts",),
    ("notifications",),
    ("territory",),
    ("core",),
]

# The "four ways to write the same thing", as line patterns.
PATTERNS: dict[str, str] = {
    "id regex written out in a viewset": r"^\s+lookup_value_regex\s*=\s*r?[\"']",
    "_parse / validated helpers defined": r"^\s*def (_parse|validated|_validated)\b",
    "status-move helpers defined": (
        r"^\s*def (_move|_wish_move|_service_move|_deletion_request_move)\b"
    ),
    "_check_answers defined": r"^\s*def _check_answers\b",
    "ReadOnlyViewSet defined": r"^class ReadOnlyViewSet\b",
    "working-day loops (is_workday called)": r"\bis_workday\(",
}


def _apps() -> list[str]:
    return [name for line in LAYERS for name in line if (ROOT / name / "__init__.py").exists()]


def _layer_of(module: str) -> int:
    top = module.split(".", 1)[0]
    for index, line in enumerate(LAYERS):
        if top in line:
            return index
    raise KeyError(module)


def upward_imports(apps: list[str]) -> list[str]:
    graph = grimp.build_graph(*apps, exclude_type_checking_imports=True)
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            low, high = _layer_of(importer), _layer_of(imported)
            top_a, top_b = importer.split(".", 1)[0], imported.split(".", 1)[0]
            sideways = low == high and top_a != top_b
            if high < low or sideways:
                details = graph.get_import_details(importer=importer, imported=imported)
                found.extend(
                    f"{importer}:{d['line_number']} -> {imported}" for d in details
                )
    return found


def _app_files(apps: list[str]) -> list[Path]:
    return sorted(
        path
        for app in apps
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def imports_inside_functions(apps: list[str]) -> tuple[int, int]:
    """(all of them, those not allowed): the allowed ones are in an AppConfig.ready() or carry
    a `# noqa: PLC0415 <reason>` (pyproject.toml's ruff settings)."""

    def count(*options: str) -> int:
        out = subprocess.run(  # noqa: S603 (our own venv's ruff, fixed arguments)
            [BIN / "ruff", "check", "--select", "PLC0415", "--output-format", "concise",
             "--no-cache", *options, *apps],
            cwd=ROOT, capture_output=True, text=True, check=False,
        ).stdout
        return sum(1 for line in out.splitlines() if "PLC0415" in line)

    return count("--isolated", "--ignore-noqa"), count()


def mypy_errors(apps: list[str]) -> int:
    out = subprocess.run(  # noqa: S603 (our own venv's mypy, fixed arguments)
        [BIN / "mypy", *apps], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    return sum(1 for line in out.splitlines() if ": error:" in line)


def pattern_lines(apps: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(PATTERNS, 0)
    compiled = {name: re.compile(pattern, re.M) for name, pattern in PATTERNS.items()}
    for path in _app_files(apps):
        text = path.read_text(encoding="utf-8")
        for name, pattern in compiled.items():
            counts[name] += len(pattern.findall(text))
    return counts


def largest(apps: list[str], count: int = 10) -> list[tuple[int, str]]:
    sizes = [
        (len(path.read_text(encoding="utf-8").splitlines()), str(path.relative_to(ROOT)))
        for path in _app_files(apps)
    ]
    return sorted(sizes, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-mypy", action="store_true")
    parser.add_argument("--list", action="store_true", help="list every upward import")
    args = parser.parse_args()
    apps = _apps()
    upward = upward_imports(apps)
    print(f"apps: {' '.join(apps)}")
    print(f"upward imports: {len(upward)}")
    if args.list:
        for line in upward:
            print(f"  {line}")
    found, not_allowed = imports_inside_functions(apps)
    print(f"imports inside functions: {found} (not allowed: {not_allowed})")
    if not args.no_mypy:
        print(f"mypy --strict errors: {mypy_errors(apps)}")
    for name, value in pattern_lines(apps).items():
        print(f"{name}: {value}")
    print("largest modules (lines):")
    for lines, path in largest(apps):
        print(f"  {lines:5d} {path}")


if __name__ == "__main__":
    main()
