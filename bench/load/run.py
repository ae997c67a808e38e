"""Load test of the portal on loopback: wrk against gunicorn on PostgreSQL, one command.

    .venv/bin/python bench/load/run.py                  # all three scenarios, the issue's numbers
    .venv/bin/python bench/load/run.py --scenario hotline --hotline-total 200   # one, smaller

1. prepares a PostgreSQL database (--db, created if missing; --fresh recreates it) with
   --petitions petitions over the demo territory (bench/load/prepare.py: one INSERT … SELECT),
   a session for the grid worker grid1 and for the demo resident, and an API key for the 12345
   system;
2. starts gunicorn on 127.0.0.1:--port with bench/load/settings.py (DEBUG off, persistent
   connections, the production middleware, Redis for cache and broker) and prints its workers;
3. runs the scenarios, each after a bare Django JSON view (/bench/bare/) at the same
   concurrency on the same server, and reports requests, req/s, p50/p95/p99, errors by status
   and the ratio to the bare view:
   - dashboard: grid1's dashboard (/petitions/staff/) and the petitions list API, --users
     concurrent users split between the two, --duration seconds;
   - submit: the demo resident's phone form with a ~2 MB JPEG, --submit-users users,
     --duration seconds; every 302 must be a stored petition with its photo;
   - hotline: --hotline-total API submissions by the 12345 system, --hotline-users at a time,
     every 1/--retry-share-th one a retry of the external_ref just sent by another connection;
     then the database must hold each external_ref once.
4. prints the dataset, versions, worker counts, wrk's own CPU (from wait4) and the server's
   (gunicorn processes and PostgreSQL backends, from /proc); writes everything as JSON to
   --workdir; exits 1 on any 5xx, socket error, unexpected status or duplicate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
LUA_DIR = Path(__file__).resolve().parent / "lua"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SETTINGS = "bench.load.settings"
BARE_PATH = "/bench/bare/"
DASHBOARD_PATH = "/petitions/staff/"
LIST_API_PATH = "/api/v1/petitions/"
SUBMIT_PATH = "/petitions/create/"


# --- processes and their CPU -------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process from /proc/<pid>/stat (0 once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            pids.append(int(entry.name))
    return pids


@dataclass
class Server:
    """gunicorn and the PostgreSQL backends serving it: CPU snapshots between phases."""

    process: subprocess.Popen[bytes]
    database_url: str
    workers: int
    threads: int
    worker_class: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def backend_pids(self) -> list[int]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()").fetchall()
        return [row[0] for row in rows]

    def cpu_snapshot(self) -> dict[str, dict[int, float]]:
        gunicorn = [self.process.pid, *children_of(self.process.pid)]
        return {"gunicorn": {pid: proc_cpu_seconds(pid) for pid in gunicorn},
                "postgres": {pid: proc_cpu_seconds(pid) for pid in self.backend_pids()}}

    def cpu_since(self, before: dict[str, dict[int, float]]) -> dict[str, float]:
        after = self.cpu_snapshot()
        return {name: round(sum(seconds - before[name].get(pid, 0.0)
                                for pid, seconds in after[name].items()), 1)
                for name in after}


def gunicorn_start(arguments: argparse.Namespace, environment: dict[str, str]) -> Server:
    log = Path(arguments.workdir) / "gunicorn.log"
    command = [str(BIN / "gunicorn"), "config.wsgi:application",
               "--bind", f"127.0.0.1:{arguments.port}", "--workers", str(arguments.workers),
               "--worker-class", arguments.worker_class, "--threads", str(arguments.threads),
               "--backlog", "2048", "--timeout", "120", "--access-logfile", "/dev/null",
               "--error-logfile", str(log), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)  # noqa: S603 - our argv
    server = Server(process=process, database_url=environment["DATABASE_URL"],
                    workers=arguments.workers, threads=arguments.threads,
                    worker_class=arguments.worker_class, port=arguments.port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}); see {log}")
        try:
            url = server.base_url + BARE_PATH  # http://127.0.0.1 only
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer {BARE_PATH} within 60 s; see {log}")


def gunicorn_stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


# --- wrk -----------------------------------------------------------------------------------


@dataclass
class Load:
    """One wrk process: what it ran and, once finished, what it measured."""

    label: str
    path: str
    connections: int
    expected: tuple[int, ...]
    count_bound: bool = False
    threads: int = 0
    process: subprocess.Popen[bytes] | None = None
    output: Path | None = None
    done_dir: Path | None = None
    started_at: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)


def wrk_start(load: Load, *, base_url: str, threads: int, seconds: int, script: str,
              environment: dict[str, str], headers: tuple[str, ...] = (),
              workdir: Path) -> Load:
    command = ["wrk", f"-t{threads}", f"-c{load.connections}", f"-d{seconds}s",
               "--timeout", "60s", "--latency", "-s", str(LUA_DIR / script)]
    for header in headers:
        command += ["-H", header]
    command.append(base_url + load.path)
    slug = re.sub(r"[^a-z0-9]+", "-", load.label.lower()).strip("-")
    load.output = workdir / f"wrk-{slug}.txt"
    load.done_dir = workdir / f"done-{slug}"
    shutil.rmtree(load.done_dir, ignore_errors=True)
    load.done_dir.mkdir()
    load.count_bound = "STOP_AFTER" in environment
    load.threads = threads
    load.started_at = time.time()
    with load.output.open("wb") as output:
        load.process = subprocess.Popen(command, stdout=output,  # noqa: S603 stderr=subprocess.STDOUT,
                                        env={**os.environ, **environment, "LUA_DIR": str(LUA_DIR),
                                             "DONE_DIR": str(load.done_dir)})
    return load


def count_bound_wait(load: Load) -> float | None:
    """wrk sleeps out its -d even when every thread has stopped: interrupt it once they have.

    Returns the seconds from start to the last thread's marker (None if wrk ended first)."""
    if load.process is None or load.done_dir is None:
        raise RuntimeError("wrk_start first")
    while load.process.poll() is None:
        markers = list(load.done_dir.iterdir())
        if len(markers) >= load.threads:
            load.process.send_signal(signal.SIGINT)
            return max(marker.stat().st_mtime for marker in markers) - load.started_at
        time.sleep(0.1)
    return None


def wrk_finish(load: Load) -> Load:
    """Wait for wrk with wait4 (its own CPU), then parse its WRKJSON line."""
    if load.process is None or load.output is None:
        raise RuntimeError("wrk_start first")
    elapsed = count_bound_wait(load) if load.count_bound else None
    _pid, status, usage = os.wait4(load.process.pid, 0)
    load.process.returncode = os.waitstatus_to_exitcode(status)
    text = load.output.read_text(errors="replace")
    match = re.search(r"^WRKJSON (.*)$", text, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk ({load.label}) printed no result:\n{text[-2000:]}")
    raw = json.loads(match.group(1))
    seconds = elapsed if elapsed is not None else raw["duration_us"] / 1e6
    statuses = {int(code): count for code, count in raw["statuses"].items()}
    unexpected = {code: count for code, count in statuses.items() if code not in load.expected}
    socket_errors = {name: count for name, count in raw["socket_errors"].items() if count}
    cpu = usage.ru_utime + usage.ru_stime
    load.result = {
        "label": load.label, "path": load.path, "connections": load.connections,
        "requests": raw["requests"], "seconds": round(seconds, 1),
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        **{f"{name}_ms": round(raw["latency_us"][name] / 1000, 1)
           for name in ("p50", "p95", "p99", "max")},
        "statuses": statuses, "errors_by_status": unexpected, "socket_errors": socket_errors,
        "server_errors": sum(count for code, count in statuses.items() if code >= 500),
        "generator_cpu_seconds": round(cpu, 2),
        "generator_cpu_percent_of_core": round(100 * cpu / seconds, 1) if seconds else 0.0,
    }
    return load


# --- the dataset -------------------------------------------------------------------------------


def database_prepare(arguments: argparse.Namespace, environment: dict[str, str]) -> dict[str, Any]:
    admin_url = environment["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                    [arguments.db]).fetchone()
        if exists and arguments.fresh:
            connection.execute(f'DROP DATABASE "{arguments.db}" WITH (FORCE)')
            exists = None
        if not exists:
            connection.execute(f'CREATE DATABASE "{arguments.db}"')
    state_file = Path(arguments.workdir) / "state.json"
    started = time.monotonic()
    subprocess.run([str(BIN / "python"), str(Path(__file__).with_name("prepare.py")), "seed",  # noqa: S603
                    "--petitions", str(arguments.petitions), "--out", str(state_file)],
                   cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL)
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state["prepare_seconds"] = round(time.monotonic() - started, 1)
    return state


def prepare_query(environment: dict[str, str], *arguments: str) -> dict[str, Any]:
    command = [str(BIN / "python"), str(Path(__file__).with_name("prepare.py")), *arguments]
    completed = subprocess.run(command, cwd=ROOT, env=environment, check=True,  # noqa: S603
                               capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def database_drop(arguments: argparse.Namespace, environment: dict[str, str]) -> None:
    admin_url = environment["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{arguments.db}" WITH (FORCE)')


def redis_cleanup(redis_url: str) -> None:
    """Delete only the bench's own broker queue (settings: CELERY_TASK_DEFAULT_QUEUE)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete("bench_load", "_kombu.binding.bench_load",
                  "_kombu.binding_permanent.bench_load")


# --- scenarios ---------------------------------------------------------------------------------


@dataclass
class Context:
    arguments: argparse.Namespace
    server: Server
    state: dict[str, Any]
    environment: dict[str, str]
    workdir: Path

    def start(self, load: Load, *, seconds: int, script: str = "common.lua",
              threads: int | None = None, environment: dict[str, str] | None = None,
              headers: tuple[str, ...] = ()) -> Load:
        thread_count = threads or min(load.connections, 2)
        return wrk_start(load, base_url=self.server.base_url, threads=thread_count,
                         seconds=seconds, script=script, environment=environment or {},
                         headers=headers, workdir=self.workdir)


def bare_baseline(context: Context, connections: int, *, seconds: int | None = None,
                  total: int | None = None) -> Load:
    """The floor: /bench/bare/ at the same concurrency, by time or by count."""
    load = Load(f"bare JSON view, {connections} users", BARE_PATH, connections, (200,))
    if total is None:
        duration = seconds or context.arguments.baseline_duration
        return wrk_finish(context.start(load, seconds=duration))
    per_thread = max(total // connections, 1)
    return wrk_finish(context.start(load, seconds=context.arguments.hotline_cap,
                                    threads=connections,
                                    environment={"STOP_AFTER": str(per_thread)}))


def scenario_dashboard(context: Context) -> dict[str, Any]:
    arguments = context.arguments
    baseline = bare_baseline(context, arguments.users,
                             seconds=min(arguments.baseline_duration, arguments.duration))
    cookie = f"Cookie: sessionid={context.state['grid_session']}"
    half = arguments.users // 2
    before = context.server.cpu_snapshot()
    loads = [
        context.start(Load("grid1 dashboard page", DASHBOARD_PATH, half, (200,)),
                      seconds=arguments.duration, headers=(cookie,)),
        context.start(Load("petitions list API (grid1)", LIST_API_PATH,
                           arguments.users - half, (200,)),
                      seconds=arguments.duration, headers=(cookie,)),
    ]
    loads = [wrk_finish(load) for load in loads]
    return {"name": "dashboard", "baseline": baseline.result,
            "runs": [load.result for load in loads],
            "server_cpu_seconds": context.server.cpu_since(before), "checks": {}}


def scenario_submit(context: Context) -> dict[str, Any]:
    arguments, state = context.arguments, context.state
    baseline = bare_baseline(context, arguments.submit_users,
                             seconds=min(arguments.baseline_duration, arguments.duration))
    since = datetime.now(UTC).isoformat()
    environment = {
        "PHOTO": state["photo"], "CSRF": state["csrf"],
        "COOKIE": f"csrftoken={state['csrf']}; sessionid={state['resident_session']}",
        "FORM": ";".join(f"{name}={value}" for name, value in state["resident_form"].items()),
    }
    before = context.server.cpu_snapshot()
    load = wrk_finish(context.start(
        Load(f"resident submission, {state['photo_bytes'] / 1e6:.1f} MB photo", SUBMIT_PATH,
             arguments.submit_users, (302,)),
        seconds=arguments.duration, script="submit.lua", environment=environment))
    server_cpu = context.server.cpu_since(before)
    stored = prepare_query(context.environment, "submitted", "--resident",
                           str(state["resident_id"]), "--since", since)
    accepted = load.result["statuses"].get(302, 0)
    # wrk stops counting at -d with up to one request per connection still in flight; the
    # server finishes those, so they are stored without being counted.
    checks = {"accepted_302": accepted, "petitions_stored": stored["petitions"],
              "photos_stored": stored["photos"],
              "ok": accepted <= stored["petitions"] <= accepted + arguments.submit_users
              and stored["photos"] == stored["petitions"]}
    return {"name": "submit", "baseline": baseline.result, "runs": [load.result],
            "server_cpu_seconds": server_cpu, "checks": checks}


def scenario_hotline(context: Context) -> dict[str, Any]:
    arguments, state = context.arguments, context.state
    users, total = arguments.hotline_users, arguments.hotline_total
    if total % users:
        raise SystemExit("--hotline-total must be a multiple of --hotline-users")
    every = round(1 / arguments.retry_share) if arguments.retry_share else 0
    baseline = bare_baseline(context, users, total=total)
    run = f"load-{datetime.now(UTC):%Y%m%dT%H%M%S}-"
    environment = {"API_KEY": state["api_key"], "CATEGORY": str(state["hotline"]["category"]),
                   "BUILDING": str(state["hotline"]["building"]), "RUN": run,
                   "THREADS": str(users), "RETRY_EVERY": str(every),
                   "STOP_AFTER": str(total // users)}
    before = context.server.cpu_snapshot()
    load = wrk_finish(context.start(
        Load(f"12345 API submissions ({total}, {arguments.retry_share:.0%} retries)",
             LIST_API_PATH, users, (200, 201)),
        seconds=arguments.hotline_cap, script="hotline.lua", threads=users,
        environment=environment))
    server_cpu = context.server.cpu_since(before)
    retries = total // every if every else 0
    stored = prepare_query(context.environment, "refs", "--prefix", run)
    statuses = load.result["statuses"]
    checks = {"sent": load.result["requests"], "expected_petitions": total - retries,
              "created_201": statuses.get(201, 0), "retried_200": statuses.get(200, 0),
              "rows": stored["rows"], "distinct_refs": stored["distinct_refs"],
              "duplicated_refs": stored["duplicated_refs"], "external_ref_prefix": run}
    # The API promises 200 to every retry, even one racing its original (7d02605): 201s must
    # equal the rows stored.
    checks["retries_answered_201"] = statuses.get(201, 0) - stored["rows"]
    checks["ok"] = (stored["duplicated_refs"] == 0 and load.result["requests"] == total
                    and stored["rows"] == total - retries
                    and checks["retries_answered_201"] == 0)
    return {"name": "hotline", "baseline": baseline.result, "runs": [load.result],
            "server_cpu_seconds": server_cpu, "checks": checks}


SCENARIOS = {"dashboard": scenario_dashboard, "submit": scenario_submit,
             "hotline": scenario_hotline}


# --- report ----------------------------------------------------------------------------------


def versions(database_url: str) -> dict[str, str]:
    import django
    import gunicorn

    with psycopg.connect(database_url) as connection:
        postgres = connection.execute("SHOW server_version").fetchone()[0]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    return {"python": platform.python_version(), "django": django.__version__,
            "postgresql": postgres, "gunicorn": gunicorn.__version__,
            "wrk": (wrk.stdout or wrk.stderr).splitlines()[0].strip()}


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    memory = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    return {"cpus": os.cpu_count(), "cpu_model": model.group(1) if model else "?",
            "memory_gib": round(int(memory.group(1)) / 2**20, 1) if memory else None,
            "load_average": [round(value, 2) for value in os.getloadavg()]}


def row(result: dict[str, Any], baseline: dict[str, Any]) -> str:
    errors = {**result["errors_by_status"], **result["socket_errors"]}
    rps_ratio = result["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    p50_ratio = result["p50_ms"] / baseline["p50_ms"] if baseline["p50_ms"] else 0.0
    p99_ratio = result["p99_ms"] / baseline["p99_ms"] if baseline["p99_ms"] else 0.0
    return (f"  {result['label'][:44]:<44} {result['connections']:>5} {result['requests']:>8} "
            f"{result['rps']:>8.1f} {result['p50_ms']:>8.1f} {result['p95_ms']:>8.1f} "
            f"{result['p99_ms']:>8.1f}  {json.dumps(errors) if errors else '0':<10} "
            f"{rps_ratio:>6.3f} {p50_ratio:>7.1f} {p99_ratio:>7.1f}   "
            f"wrk {result['generator_cpu_seconds']:.1f} s CPU "
            f"({result['generator_cpu_percent_of_core']:.0f}% of a core)")


def scenario_print(report: dict[str, Any]) -> None:
    print(f"\n== {report['name']}")
    print(f"  {'run':<44} {'users':>5} {'requests':>8} {'req/s':>8} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'p99 ms':>8}  {'errors':<10} {'×rps':>6} {'×p50':>7} {'×p99':>7}")
    baseline = report["baseline"]
    print(row(baseline, baseline))
    for result in report["runs"]:
        print(row(result, baseline))
    cpu = report["server_cpu_seconds"]
    requests = sum(result["requests"] for result in report["runs"]) or 1
    print(f"  server CPU during the scenario: gunicorn {cpu['gunicorn']} s, PostgreSQL "
          f"backends {cpu['postgres']} s ({1000 * cpu['gunicorn'] / requests:.1f} + "
          f"{1000 * cpu['postgres'] / requests:.1f} ms a request)")
    if report["checks"]:
        print(f"  checks: {json.dumps(report['checks'], ensure_ascii=False)}")


def estimate_seconds(arguments: argparse.Namespace, database_exists: bool) -> float:
    # A fresh 100,000-petition database took 74 s at load average 11 (migrate, demo, fill).
    seconds = 15.0 if database_exists and not arguments.fresh else 30 + arguments.petitions / 4000
    seconds += 10  # gunicorn start and warm-up
    baseline = min(arguments.baseline_duration, arguments.duration)
    for name in arguments.scenarios:
        if name == "hotline":
            seconds += arguments.hotline_total / 20 + arguments.hotline_total / 200 + 5
        else:
            seconds += arguments.duration + baseline + 5
    return seconds


# --- main --------------------------------------------------------------------------------------


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--scenario", choices=["all", *SCENARIOS], default="all")
    parser.add_argument("--duration", type=int, default=300, help="seconds per timed scenario")
    parser.add_argument("--users", type=int, default=50, help="dashboard + list API users")
    parser.add_argument("--submit-users", type=int, default=20)
    parser.add_argument("--hotline-total", type=int, default=1000)
    parser.add_argument("--hotline-users", type=int, default=10)
    parser.add_argument("--retry-share", type=float, default=0.1)
    parser.add_argument("--hotline-cap", type=int, default=900,
                        help="seconds the count-bound hotline run may take at most")
    parser.add_argument("--baseline-duration", type=int, default=60,
                        help="seconds of the bare-view run before each timed scenario")
    parser.add_argument("--petitions", type=int, default=100_000)
    parser.add_argument("--db", default="portal_load")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432",
                        help="server URL, without the database")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL",
                                                              "redis://127.0.0.1:6379/2"))
    parser.add_argument("--fresh", action="store_true", help="drop and recreate --db first")
    parser.add_argument("--drop-db", action="store_true", help="drop --db at the end")
    parser.add_argument("--port", type=int, default=8056)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench_load"))
    arguments = parser.parse_args()
    arguments.scenarios = list(SCENARIOS) if arguments.scenario == "all" else [arguments.scenario]
    return arguments


def header_print(arguments: argparse.Namespace, database_url: str) -> None:
    with psycopg.connect(f"{arguments.pg}/postgres") as connection:
        exists = bool(connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                         [arguments.db]).fetchone())
    estimate = estimate_seconds(arguments, exists)
    print(f"bench/load: scenarios {', '.join(arguments.scenarios)}; database {database_url}; "
          f"estimated wall time {estimate / 60:.1f} min (the hotline part is an assumption: "
          f"~20 submissions/s); load average {os.getloadavg()[0]:.1f}", flush=True)


def main() -> int:
    arguments = parse()
    workdir = Path(arguments.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"{arguments.pg}/{arguments.db}"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS,
                   "DATABASE_URL": database_url, "REDIS_URL": arguments.redis_url,
                   "MEDIA_ROOT": str(workdir / "media"), "STATIC_ROOT": str(workdir / "static"),
                   "LOG_LEVEL": "WARNING",
                   "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    header_print(arguments, database_url)
    state = database_prepare(arguments, environment)
    print(f"dataset: {json.dumps(state['dataset'], ensure_ascii=False)} (added "
          f"{state['added_petitions']:,} petitions in {state['fill_seconds']} s; prepared in "
          f"{state['prepare_seconds']} s)", flush=True)
    server = gunicorn_start(arguments, environment)
    workers = children_of(server.process.pid)
    print(f"gunicorn {arguments.worker_class}: {len(workers)} workers × {arguments.threads} "
          f"threads on {server.base_url} (master pid {server.process.pid})", flush=True)
    context = Context(arguments, server, state, environment, workdir)
    # Warm every worker thread (imports, first connection, URL and template caches); discarded.
    wrk_finish(context.start(Load("warm-up", BARE_PATH, max(arguments.users, 20), (200,)),
                             seconds=5))
    reports = []
    try:
        for name in arguments.scenarios:
            reports.append(SCENARIOS[name](context))
            scenario_print(reports[-1])
    finally:
        gunicorn_stop(server)
        redis_cleanup(arguments.redis_url)
        shutil.rmtree(workdir / "media", ignore_errors=True)
    return summary(arguments, state, reports, database_url, time.monotonic() - started)


def summary(arguments: argparse.Namespace, state: dict[str, Any], reports: list[dict[str, Any]],
            database_url: str, wall: float) -> int:
    result = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "wall_seconds": round(wall),
              "machine": machine(), "versions": versions(database_url),
              "gunicorn": {"worker_class": arguments.worker_class, "workers": arguments.workers,
                           "threads": arguments.threads},
              "dataset": state["dataset"], "photo_bytes": state["photo_bytes"],
              "arguments": dict(vars(arguments)),
              "scenarios": reports}
    failures = [f"{report['name']}: {run['label']}: {run['errors_by_status'] or ''}"
                f"{run['socket_errors'] or ''}"
                for report in reports for run in [report["baseline"], *report["runs"]]
                if run["errors_by_status"] or run["socket_errors"]]
    failures += [f"{report['name']}: checks failed" for report in reports
                 if report["checks"] and not report["checks"]["ok"]]
    result["failures"] = failures
    if arguments.drop_db:
        database_drop(arguments, {"DATABASE_URL": database_url})
    out = Path(arguments.workdir) / f"result-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nversions: {json.dumps(result['versions'])}")
    print(f"machine: {json.dumps(result['machine'], ensure_ascii=False)}")
    print(f"wall time {wall / 60:.1f} min; full result in {out}")
    print("FAILED: " + "; ".join(failures) if failures else "OK: no 5xx, no socket errors, "
          "no unexpected status, no duplicate")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
