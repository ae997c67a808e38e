"""CPU milliseconds per request of the hot pages, in process, on a seeded PostgreSQL database.

    make bench-pages                                     # 100,000 then 1,000,000 petitions
    .venv/bin/python bench/pages.py --petitions 1000000 [--db portal_pages_1m] [--requests 30]
    .venv/bin/python bench/pages.py --petitions 1000000 --explain   # + EXPLAIN of every query

Each page is asked through Django's test Client (the whole middleware stack, the settings of
bench/load/settings.py: DEBUG off, throttles raised, the bare JSON view at /bench/bare/), as the
demo accounts the load bench logs in as (grid1, the resident 王秀英; Open311 keyless). After
--warmup requests, --requests requests are timed with time.process_time (this process's CPU:
Python, template rendering, the database driver; not PostgreSQL's own work, which the wall
figure includes); the table gives the least, the median and p90 of each, and the queries of
one request (CaptureQueriesContext). On a shared VM the median moves by up to half between runs
minutes apart (another tenant's load slows this process's CPU, it never speeds it up): the
least is the figure that repeats, the median the one a user meets. A page whose first request
costs over SLOW_SECONDS of CPU is timed once (that first request: n=1 in the table). "PG CPU"
is PostgreSQL's own CPU a request: its backend's user + system time from /proc over the timed
requests (the server on this host; "-" otherwise). /proc counts in ticks of 10 ms, so take
--requests 300 for a figure to a few hundredths of a millisecond.

The data is bench/load/prepare.py's: `--seed` runs `prepare.py seed --petitions N` into the
database first (it only tops up; a database that holds N petitions is left as it is). Create
the database once, with the C collation the LIKE-prefix scope filters need for their indexes:

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE portal_pages_1m LOCALE 'C' TEMPLATE template0"

--instructions counts, instead of timing, the instructions each page's requests execute: each
page in a child process under valgrind's callgrind (`apt-get install valgrind`), counted from
after the warm-up to the last request (callgrind_control turns the counting on; the child ends
with os._exit, so the interpreter's shutdown is not counted). The count is the same from run to
run within a few thousandths, on a busy VM as on an idle one, where the CPU times move by half:
it is the figure to compare a change by (each page about 20 s; --instruction-requests 10).
It is not a time: a page that misses the processor's caches more runs fewer instructions a
millisecond than the bare view. System calls (the socket to PostgreSQL and Redis) are not
counted.

--explain prints, for each page, EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of each SELECT of one
request as one line per plan node: node type, relation and index, actual rows × loops, time.
Nodes worth a look are marked: `!seq` a sequential scan of the petitions table, `!rows` a node
that reads over BIG_ROWS (100,000) rows, kept or filtered out.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLOW_SECONDS = 1.0
DATABASES = {100_000: "portal_pages_100k", 1_000_000: "portal_pages_1m"}
BIG_ROWS = 100_000


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--petitions", type=int, default=100_000,
                        help="the dataset: 100000 or 1000000 (picks the database)")
    parser.add_argument("--db", help="database name (default: portal_pages_100k / _1m)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) every query of one request per page")
    parser.add_argument("--seed", action="store_true",
                        help="run bench/load/prepare.py seed into the database first")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432",
                        help="server URL, without the database")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL",
                                                              "redis://127.0.0.1:6379/3"),
                        help="cache and throttles, as in the load run")
    parser.add_argument("--only", default="", help="comma-separated page labels (substring)")
    parser.add_argument("--skip", default="", help="comma-separated page labels (substring)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions a request under valgrind's callgrind instead "
                             "of timing (deterministic)")
    parser.add_argument("--instruction-requests", type=int, default=10, metavar="N",
                        help="requests counted a page with --instructions")
    parser.add_argument("--instructions-child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="after timing, run N more requests of each page under cProfile and "
                             "print the 25 functions with the most own time")
    return parser.parse_args()


ARGUMENTS = _arguments() if __name__ == "__main__" else None
if ARGUMENTS is not None:
    database = ARGUMENTS.db or DATABASES.get(ARGUMENTS.petitions) or \
        f"portal_pages_{ARGUMENTS.petitions}"
    os.environ["DATABASE_URL"] = f"{ARGUMENTS.pg}/{database}"
    os.environ["REDIS_URL"] = ARGUMENTS.redis_url
    if ARGUMENTS.seed and not ARGUMENTS.instructions_child:
        subprocess.run(  # noqa: S603 — our own script, our own arguments
            [sys.executable, str(ROOT / "bench/load/prepare.py"), "seed",
             "--petitions", str(ARGUMENTS.petitions),
             "--out", str(ROOT / f"var/bench_pages/{database}.json")],
            check=True, env=os.environ,
            stdout=subprocess.DEVNULL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from governance.demo import RESIDENT_PHONE  # noqa: E402
from petitions.models import Category, Petition  # noqa: E402
from petitions.workbench import workbench_tabs  # noqa: E402

GRID_WORKER = "grid1"


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def pages() -> list[tuple[str, Client, str]]:
    """(label, client, path) of every page timed."""
    grid = User.objects.get(username=GRID_WORKER)
    resident = User.objects.get(phone=RESIDENT_PHONE)
    staff, home, anonymous = _client(grid), _client(resident), _client(None)
    category = Category.objects.filter(is_active=True).order_by("id").first()
    own = (Petition.objects.filter(submitter=resident).order_by("-submitted_at", "-id")
           .values_list("pk", flat=True).first())
    now = timezone.localtime()
    month_ago = (now - timedelta(days=30)).date().isoformat()
    year_ago = (now - timedelta(days=400)).date().isoformat()
    window = {"start_date": (now - timedelta(days=60)).isoformat(timespec="seconds"),
              "end_date": (now - timedelta(days=30)).isoformat(timespec="seconds")}
    rows: list[tuple[str, Client, str]] = [("bare JSON view", anonymous, "/bench/bare/"),
                                           ("workbench (default tab)", staff, "/petitions/staff/")]
    rows += [(f"workbench ?tab={tab.key}", staff, f"/petitions/staff/?tab={tab.key}")
             for tab in workbench_tabs(user=grid)]
    rows += [
        ("workbench ?tab=all&state=closed", staff, "/petitions/staff/?tab=all&state=closed"),
        ("list API page_size=20", staff, "/api/v1/petitions/?page_size=20"),
        ("list API state=dispatched", staff,
         "/api/v1/petitions/?page_size=20&state=dispatched"),
        ("list API category+submitted_after", staff,
         f"/api/v1/petitions/?page_size=20&category={category.pk if category else ''}"
         f"&submitted_after={month_ago}T00:00:00%2B08:00"),
        ("list API submitted_before a year back", staff,
         f"/api/v1/petitions/?page_size=20&submitted_before={year_ago}T00:00:00%2B08:00"),
        ("list API state=closed&tier=microgrid", staff,
         "/api/v1/petitions/?page_size=20&state=closed&tier=microgrid"),
        ("Open311 list keyless (200 rows)", anonymous, "/open311/v2/requests.json"),
        ("Open311 list start/end window", anonymous,
         f"/open311/v2/requests.json?{urlencode(window)}"),
        ("resident /petitions/ (mine)", home, "/petitions/"),
    ]
    if own is not None:
        rows.append(("resident detail", home, f"/petitions/{own}/"))
    return rows


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _request(client: Client, path: str) -> tuple[float, float]:
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    response = client.get(path)
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started_wall
    if response.status_code != 200:
        raise SystemExit(f"pages.py: {path} answered {response.status_code}")
    return cpu * 1000, wall * 1000


def _backend_cpu_ms() -> float | None:
    """CPU the PostgreSQL backend of this process's connection has used (user + system, from
    /proc: the server on this host), in ms; None when it cannot be read (another host)."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def measure(client: Client, path: str, *, requests: int, warmup: int) -> dict[str, Any]:
    with CaptureQueriesContext(connection) as captured:
        first_cpu, first_wall = _request(client, path)
    queries = [query["sql"] for query in captured.captured_queries]
    database_cpu = None
    if first_cpu > SLOW_SECONDS * 1000:  # minutes at 1M: the first request is the figure
        samples = [(first_cpu, first_wall)]
    else:
        for _ in range(warmup):
            _request(client, path)
        before = _backend_cpu_ms()
        samples = [_request(client, path) for _ in range(requests)]
        after = _backend_cpu_ms()
        if before is not None and after is not None:
            database_cpu = (after - before) / requests
    count = len(samples)
    cpu = [sample[0] for sample in samples]
    wall = [sample[1] for sample in samples]
    return {"cpu_min": min(cpu), "cpu_p50": statistics.median(cpu),
            "cpu_p90": _percentile(cpu, 0.9),
            "wall_p50": statistics.median(wall), "queries": len(queries), "n": count,
            "sql": queries, "database_cpu": database_cpu}


def _node_lines(node: dict[str, Any], depth: int = 0) -> list[str]:
    relation = node.get("Relation Name", "")
    index = node.get("Index Name", "")
    loops = node.get("Actual Loops", 1)  # PostgreSQL gives rows per loop (a worker's share)
    rows = node.get("Actual Rows", 0) * loops
    removed = node.get("Rows Removed by Filter", 0) * loops
    marks = []
    if node["Node Type"] == "Seq Scan" and relation == "petitions_petition":
        marks.append("!seq")
    if rows + removed > BIG_ROWS:
        marks.append("!rows")
    where = " ".join(part for part in (relation, index and f"[{index}]") if part)
    line = (f"{'  ' * depth}{node['Node Type']} {where} rows={rows}"
            f"{f' removed={removed}' if removed else ''}"
            f" {node.get('Actual Total Time', 0):.1f} ms {' '.join(marks)}").rstrip()
    lines = [line]
    for child in node.get("Plans", []):
        lines += _node_lines(child, depth + 1)
    return lines


def explain(queries: list[str]) -> list[str]:
    lines = []
    with connection.cursor() as cursor:
        for number, sql in enumerate(queries, start=1):
            if not sql.lstrip().upper().startswith("SELECT"):
                lines.append(f"  q{number}: {sql[:90]} (not explained)")
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            top = plan[0]
            lines.append(f"  q{number}: {top['Execution Time']:.1f} ms  {sql[:140]}")
            lines += [f"      {line}" for line in _node_lines(top["Plan"])]
    return lines


def profile(client: Client, path: str, *, requests: int) -> None:
    """cProfile of this process's CPU over `requests` requests (its overhead inflates small
    calls: read the shares)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)  # CPU, as the figures
    profiler.enable()
    for _ in range(requests):
        _request(client, path)
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(40)
    if os.environ.get("BENCH_CALLERS"):
        pstats.Stats(profiler).strip_dirs().print_callers(os.environ["BENCH_CALLERS"])
    if os.environ.get("BENCH_CALLEES"):  # what a function spends its time in, e.g. "initial"
        stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
        stats.print_callees(os.environ["BENCH_CALLEES"])


def _selected(label: str, arguments: argparse.Namespace) -> bool:
    only = [item for item in arguments.only.split(",") if item]
    skip = [item for item in arguments.skip.split(",") if item]
    return not ((only and not any(item in label for item in only))
                or any(item in label for item in skip))


def count_child(label: str, arguments: argparse.Namespace) -> None:
    """Under callgrind: warm the page up, turn the counting on, ask it
    --instruction-requests times, and end without the interpreter's shutdown."""
    [(client, path)] = [(client, path) for name, client, path in pages() if name == label]
    for _ in range(arguments.warmup):
        _request(client, path)
    switch = subprocess.Popen(["callgrind_control", "--instr=on", str(os.getpid())],  # noqa: S603, S607
                              stdout=subprocess.DEVNULL)
    while switch.poll() is None:  # callgrind takes the command while this process runs
        pass
    for _ in range(arguments.instruction_requests):
        _request(client, path)
    sys.stdout.flush()
    os._exit(0)


def count_instructions(label: str, arguments: argparse.Namespace) -> float:
    """Millions of instructions a request of LABEL's page (count_child under callgrind)."""
    child = [item for item in sys.argv[1:] if item not in ("--instructions", "--seed")]
    result = subprocess.run(  # noqa: S603 — valgrind on this script, our own arguments
        ["valgrind", "--tool=callgrind", "--instr-atstart=no",  # noqa: S607
         "--callgrind-out-file=/dev/null", sys.executable, str(Path(__file__).resolve()),
         *child, "--instructions-child", label],
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    collected = [line.split("Collected :")[1] for line in result.stderr.splitlines()
                 if "Collected :" in line]
    if result.returncode or not collected:
        raise SystemExit(f"pages.py: {label} under callgrind failed:\n{result.stderr[-2000:]}")
    return float(int(collected[0].strip()) / arguments.instruction_requests / 1e6)


def instructions_main(arguments: argparse.Namespace) -> None:
    print(f"# {connection.settings_dict['NAME']}: {Petition.objects.count():,} petitions; "
          f"instructions of {arguments.instruction_requests} requests a page after "
          f"{arguments.warmup} warm-up (callgrind)")
    print(f"{'page':40} {'M instr':>9} {'x bare':>7}")
    bare = None
    for label, _client, _path in pages():
        if label != "bare JSON view" and not _selected(label, arguments):
            continue
        millions = count_instructions(label, arguments)
        bare = bare or millions
        print(f"{label:40} {millions:9.2f} {millions / bare:7.1f}", flush=True)


def main() -> None:
    if ARGUMENTS is None:
        raise SystemExit("pages.py: run it as a script")
    if ARGUMENTS.instructions_child:
        count_child(ARGUMENTS.instructions_child, ARGUMENTS)
    if ARGUMENTS.instructions:
        instructions_main(ARGUMENTS)
        return
    total = Petition.objects.count()
    print(f"# {connection.settings_dict['NAME']}: {total:,} petitions; "
          f"{ARGUMENTS.requests} requests a page after {ARGUMENTS.warmup} warm-up")
    print(f"{'page':40} {'CPU min':>9} {'CPU p50':>9} {'CPU p90':>9} {'wall p50':>9} "
          f"{'queries':>7} {'PG CPU':>7}")
    explained: list[tuple[str, list[str]]] = []
    for label, client, path in pages():
        if not _selected(label, ARGUMENTS):
            continue
        figures = measure(client, path, requests=ARGUMENTS.requests, warmup=ARGUMENTS.warmup)
        slow = f"  (n={figures['n']})" if figures["n"] != ARGUMENTS.requests else ""
        database = ("      -" if figures["database_cpu"] is None
                    else f"{figures['database_cpu']:7.2f}")
        print(f"{label:40} {figures['cpu_min']:9.2f} {figures['cpu_p50']:9.2f} "
              f"{figures['cpu_p90']:9.2f} "
              f"{figures['wall_p50']:9.2f} {figures['queries']:7d} {database}{slow}",
              flush=True)
        if ARGUMENTS.explain:
            explained.append((f"{label}  {path}", figures["sql"]))
        if ARGUMENTS.profile:
            profile(client, path, requests=ARGUMENTS.profile)
    for title, queries in explained:
        print(f"\n## {title}")
        for line in explain(queries):
            print(line)


if __name__ == "__main__":
    main()
