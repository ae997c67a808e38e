"""Restore drill: pg_dump -Fc a database, restore it into a new one, prove the copy is whole.

    .venv/bin/python ops/restore_drill.py                     # CI: builds a demo database first
    .venv/bin/python ops/restore_drill.py --source-db portal  # drill on an existing database
    .venv/bin/python ops/restore_drill.py --source-db portal --timeout 1800 --keep-dump x.dump

1. The source: --source-db (only read), or PREFIX_source built here (migrate + load_demo).
2. In ONE read-only REPEATABLE READ transaction on the source: export its snapshot, count the
   rows of every table, and run `pg_dump -Fc --snapshot=…` on that snapshot — so the counts
   and the dump see the same data even while the source keeps taking writes.
3. `pg_restore --exit-on-error` into PREFIX_restored, then compare: the same tables, the same
   row count in each, every id sequence at least where the source's was just before the dump
   (else ids would be handed out twice), the key tables not empty, and `manage.py migrate
   --check` on the restored copy (no migration missing or unapplied).
4. Drop what it created (PREFIX_source, PREFIX_restored), whatever happened; the dump is
   deleted unless --keep-dump. Exit 0 and "restore drill: OK …", or 1 with every difference.
Every step runs within --timeout seconds in all (60 by default; measured 60 s with the 2-core
box at load average 11, of which building the demo source took 34 s).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
KEY_TABLES = ("django_migrations", "accounts_user", "governance_area", "residents_household",
              "residents_resident", "petitions_petition", "petitions_petitionevent")
SEQUENCES_SQL = """
SELECT seq.relname, tab.relname, col.attname
FROM pg_class seq
JOIN pg_namespace ns ON ns.oid = seq.relnamespace AND ns.nspname = 'public'
JOIN pg_depend dep ON dep.objid = seq.oid AND dep.deptype IN ('a', 'i')
JOIN pg_class tab ON tab.oid = dep.refobjid
JOIN pg_attribute col ON col.attrelid = tab.oid AND col.attnum = dep.refobjsubid
WHERE seq.relkind = 'S' ORDER BY 1
"""


class Drill:
    def __init__(self, arguments: argparse.Namespace) -> None:
        self.pg = arguments.pg.rstrip("/")
        self.prefix = arguments.prefix
        self.deadline = time.monotonic() + arguments.timeout
        self.created: list[str] = []
        self.timings: dict[str, float] = {}
        self.sequences: dict[str, int] = {}

    def url(self, database: str) -> str:
        return f"{self.pg}/{database}"

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the drill ran out of time")
        return left

    def run(self, label: str, command: list[str], database: str | None = None) -> None:
        """One step in a child process, bounded by what is left of the time."""
        environment = dict(os.environ)
        if database is not None:
            environment["DATABASE_URL"] = self.url(database)
        started = time.monotonic()
        completed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True,  # noqa: S603
                                   text=True, timeout=self.remaining(), check=False)
        self.timings[label] = time.monotonic() - started
        if completed.returncode != 0:
            raise RuntimeError(f"{label} failed ({completed.returncode}):\n"
                               f"{(completed.stdout + completed.stderr)[-3000:]}")

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                               .format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)

    def drop_created(self) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            for name in self.created:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                                   .format(sql.Identifier(name)))

    def build_source(self) -> str:
        source = f"{self.prefix}_source"
        self.create_database(source)
        self.run("migrate (source)", [str(PYTHON), "manage.py", "migrate", "--noinput"], source)
        self.run("load_demo", [str(PYTHON), "manage.py", "load_demo", "--no-progress"], source)
        return source

    def dump(self, source: str, path: Path) -> dict[str, int]:
        """Count every table and dump, both on one exported snapshot of the source."""
        with psycopg.connect(self.url(source)) as connection:
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
            counts = table_counts(connection)
            self.sequences = sequence_positions(connection)
            self.run("pg_dump", ["pg_dump", "--format=custom", "--no-owner",
                                 f"--snapshot={snapshot}", f"--file={path}", self.url(source)])
            connection.rollback()
        return counts

    def restore(self, path: Path) -> str:
        restored = f"{self.prefix}_restored"
        self.create_database(restored)
        self.run("pg_restore", ["pg_restore", "--exit-on-error", "--no-owner", "--jobs=2",
                                f"--dbname={self.url(restored)}", str(path)])
        return restored


def table_counts(connection: psycopg.Connection) -> dict[str, int]:
    tables = [row[0] for row in connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()]
    counts = {}
    for table in tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        counts[table] = connection.execute(query).fetchone()[0]
    return counts


def sequence_positions(connection: psycopg.Connection) -> dict[str, int]:
    """The next value each id sequence will hand out (sequences ignore the snapshot)."""
    positions = {}
    for sequence, _table, _column in connection.execute(SEQUENCES_SQL).fetchall():
        last_value, is_called = connection.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(sql.Identifier(sequence))
        ).fetchone()
        positions[sequence] = last_value + 1 if is_called else last_value
    return positions


def sequence_problems(source: dict[str, int], restored: dict[str, int]) -> list[str]:
    """A sequence behind the source's (read just before the dump) would reissue ids."""
    problems = [f"sequence {name} is missing from the restored copy"
                for name in sorted(source.keys() - restored.keys())]
    problems += [f"sequence {name} would hand out {restored[name]}, the source was at "
                 f"{source[name]}" for name in sorted(source.keys() & restored.keys())
                 if restored[name] < source[name]]
    return problems


def compare(source: dict[str, int], restored: dict[str, int], *, require_data: bool) -> list[str]:
    differences = [f"table {name} is missing from the restored copy"
                   for name in sorted(source.keys() - restored.keys())]
    differences += [f"table {name} is in the copy but not in the source"
                    for name in sorted(restored.keys() - source.keys())]
    differences += [f"{name}: {source[name]} rows in the source, {restored[name]} restored"
                    for name in sorted(source.keys() & restored.keys())
                    if source[name] != restored[name]]
    if require_data:
        differences += [f"key table {name} is empty or missing" for name in KEY_TABLES
                        if not restored.get(name)]
    return differences


def drill(arguments: argparse.Namespace, workdir: Path) -> list[str]:
    runner = Drill(arguments)
    try:
        source = arguments.source_db or runner.build_source()
        dump_path = Path(arguments.keep_dump) if arguments.keep_dump else workdir / "drill.dump"
        source_counts = runner.dump(source, dump_path)
        restored = runner.restore(dump_path)
        with psycopg.connect(runner.url(restored)) as connection:
            restored_counts = table_counts(connection)
            problems = sequence_problems(runner.sequences, sequence_positions(connection))
        problems = compare(source_counts, restored_counts,
                           require_data=not arguments.source_db) + problems
        runner.run("migrate --check", [str(PYTHON), "manage.py", "migrate", "--check"], restored)
    except (RuntimeError, TimeoutError, subprocess.TimeoutExpired) as error:
        return [str(error)]
    finally:
        runner.drop_created()
    print_summary(source_counts, dump_path, runner.timings)
    return problems


def print_summary(counts: dict[str, int], dump_path: Path, timings: dict[str, float]) -> None:
    key = ", ".join(f"{name} {counts.get(name, 0):,}" for name in KEY_TABLES)
    steps = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in timings.items())
    size = dump_path.stat().st_size / 1e6 if dump_path.exists() else 0.0
    print(f"restore drill: {len(counts)} tables, {sum(counts.values()):,} rows, dump "
          f"{size:.1f} MB; {key}")
    print(f"restore drill: steps: {steps}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("DRILL_PG_URL",
                                                       "postgres://postgres@127.0.0.1:5432"),
                        help="the PostgreSQL server, without a database name")
    parser.add_argument("--prefix", default=os.environ.get("DRILL_PREFIX", "portal_drill"),
                        help="names of the databases the drill creates and drops")
    parser.add_argument("--source-db", help="drill on this database instead of a fresh demo")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds, all steps")
    parser.add_argument("--keep-dump", help="write the dump here and keep it")
    arguments = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="restore-drill-") as workdir:
        problems = drill(arguments, Path(workdir))
    elapsed = time.monotonic() - started
    if problems:
        print(f"restore drill: FAILED after {elapsed:.1f} s", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"restore drill: OK in {elapsed:.1f} s (same tables, same row counts, sequences "
          "where the source's were, migrations complete)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
