"""The production smoke lane (.ci/run): docker-compose.yml's app services, run on this machine.

No container engine is needed. It reads docker-compose.yml and starts exactly the commands of
its app services (migrate, web, worker, beat: every service of the app image) from this checkout,
under the production settings, in compose's start order (depends_on), with the environment a
container would get: .env.example, the service's own `environment:`, the image's ENV, and only
what must differ on this machine replaced — generated secrets, a fresh PostgreSQL database on
127.0.0.1:5432 (created and dropped here), two Redis databases of 127.0.0.1:6379 (flushed), media
and static roots in a temporary directory, a free loopback port, a non-example host name, and
the fake Alibaba SMS gateway (tests/fakes/aliyun_sms.py). In front of gunicorn it runs Debian's
nginx with ops/nginx/portal.conf, only its upstream, paths and listen port substituted.

It checks, through nginx: the home page, /healthz, static files, a resident's own petition photo
(sent by nginx after the portal's X-Accel-Redirect), another resident's photo (404), a staff
member in scope and one out of scope, an overdue petition escalated by the real worker and beat;
and that the web command refuses to start without FIELD_ENCRYPTION_KEYS. Every wait is bounded;
every process group, the database and the Redis databases are cleaned up, also on failure.

    .venv/bin/python ops/smoke.py [--compose FILE] [--env-example FILE]

Exit status 0 when every check passed. tests/core/test_compose.py imports `app_services` to
hold this lane to compose's commands.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

REPO = Path(__file__).resolve().parent.parent
APP_IMAGE = "community-portal"
MIGRATE = "migrate"
COMPLETED = "service_completed_successfully"
HOST = "portal.smoke-lane.cn"
# X-Forwarded-For as the operator's TLS proxy (played here) sends it: whatever the client wrote
# (a forged address), then the client's address as the proxy saw it. nginx appends its own peer.
FORGED_ADDRESS, CLIENT_ADDRESS = "198.51.100.66", "203.0.113.7"
# What the image's ENV sets besides DJANGO_ENV (Dockerfile): the source tree is the path.
IMAGE_ENV = {"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


STARTED = time.monotonic()


def say(text: str) -> None:
    """One line of the lane's report, with the seconds since it began."""
    print(f"[{time.monotonic() - STARTED:5.1f} s] {text}", flush=True)


class SmokeError(Exception):
    """The lane cannot go on (a broken compose file, a process that did not start...)."""


class CheckFailed(Exception):
    """One check failed; the lane runs the others."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --- Reading compose and .env.example ---------------------------------------------------------


def load_compose(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as compose reads an env_file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group("name", "op", "arg")
        value = variables.get(name)
        missing = value is None or (value == "" and operator in (":-", ":?"))
        if operator in ("?", ":?") and missing:
            raise SmokeError(f"{name}: {argument or 'required'}")
        if operator in ("-", ":-") and missing:
            return argument
        return value or ""

    return INTERPOLATION.sub(replace, text)


def interpolated_names(node: Any) -> set[str]:
    """Every variable name a compose document interpolates (in any string, key or value)."""
    if isinstance(node, dict):
        return set().union(*(interpolated_names(key) | interpolated_names(value)
                             for key, value in node.items())) if node else set()
    if isinstance(node, list):
        return set().union(*(interpolated_names(item) for item in node)) if node else set()
    if isinstance(node, str):
        return {match.group("name") for match in INTERPOLATION.finditer(node)
                if match.group("name")}
    return set()


@dataclass(frozen=True)
class Service:
    """One app service as compose would start it."""

    name: str
    command: tuple[str, ...]
    environment: dict[str, str]
    depends_on: dict[str, str]
    is_one_shot: bool


def _depends_on(spec: Any) -> dict[str, str]:
    if isinstance(spec, list):
        return dict.fromkeys(spec, "service_started")
    return {name: (options or {}).get("condition", "service_started")
            for name, options in (spec or {}).items()}


def app_services(compose: Mapping[str, Any]) -> list[Service]:
    """The services of the app image, in the order compose starts them (depends_on).

    Refuses (SmokeError) a command in shell form, and an app service that does not wait for
    migrate to complete successfully: the lane then fails, as the stack would start wrong."""
    services = compose["services"]
    found = {}
    for name, spec in services.items():
        if not str(spec.get("image", "")).startswith(f"{APP_IMAGE}:"):
            continue
        command = spec.get("command")
        if not isinstance(command, list) or not command:
            raise SmokeError(f"{name}: the command must be a list (exec form), not {command!r}")
        environment = spec.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        found[name] = Service(
            name=name, command=tuple(str(part) for part in command),
            environment={key: str(value) for key, value in environment.items()},
            depends_on=_depends_on(spec.get("depends_on")),
            is_one_shot=str(spec.get("restart", "no")) == "no")
    if MIGRATE not in found:
        raise SmokeError(f"docker-compose.yml has no {MIGRATE!r} service of the app image")
    for service in found.values():
        if service.name != MIGRATE and service.depends_on.get(MIGRATE) != COMPLETED:
            raise SmokeError(f"{service.name} does not wait for {MIGRATE} "
                             f"(depends_on: {MIGRATE}: condition: {COMPLETED})")
    return _start_order(found)


def _start_order(found: dict[str, Service]) -> list[Service]:
    ordered: list[Service] = []
    pending = dict(found)
    while pending:
        ready = [service for service in pending.values()
                 if all(dependency not in pending for dependency in service.depends_on)]
        if not ready:
            raise SmokeError(f"depends_on has a cycle among {sorted(pending)}")
        ordered.extend(pending.pop(service.name) for service in ready)
    return ordered


# --- Processes --------------------------------------------------------------------------------


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str,
             interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise SmokeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Process:
    """A command in its own process group, its output in a log file."""

    name: str
    argv: list[str]
    environment: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - compose's own commands
                self.argv, cwd=REPO, env=self.environment, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def exited(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def wait_exit(self, timeout: float) -> int:
        if self.popen is None:
            raise SmokeError(f"{self.name} was never started")
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SmokeError(f"{self.name} still running after {timeout:.0f} s") from None

    def wait_log(self, text: str, timeout: float) -> None:
        def seen() -> bool:
            if self.exited() is not None:
                raise SmokeError(f"{self.name} exited ({self.exited()}):\n{self.log()[-3000:]}")
            return text in self.log()

        wait_for(seen, timeout=timeout, what=f"{text!r} from {self.name}")

    def signal_group(self, sig: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the whole group (a warm shutdown), SIGKILL to what is left after
        `timeout` seconds (and to any child left behind by a leader that has exited)."""
        self.signal_group(signal.SIGTERM)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The machine's services: PostgreSQL, Redis, the SMS gateway, nginx -----------------------


def fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    import psycopg

    name = f"portal_smoke_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def flushed_redis(server: str, numbers: tuple[int, int]) -> Iterator[tuple[str, str]]:
    import redis

    urls = tuple(f"{server}/{number}" for number in numbers)
    for url in urls:
        redis.Redis.from_url(url, socket_timeout=5).flushdb()
    try:
        yield urls  # type: ignore[misc]
    finally:
        for url in urls:
            redis.Redis.from_url(url, socket_timeout=5).flushdb()


@contextlib.contextmanager
def sms_gateway() -> Iterator[Any]:
    sys.path.insert(0, str(REPO))
    from tests.fakes.aliyun_sms import FakeAliyunSms, serve

    gateway = FakeAliyunSms()
    server = serve(gateway)
    gateway.endpoint = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield gateway
    finally:
        server.shutdown()


def nginx_binary() -> str:
    """Debian's nginx; installed with apt-get when missing (as .ci/run installs Chromium)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found:
        return found
    print("nginx is missing: apt-get install nginx", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)  # noqa: S607
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"],  # noqa: S607
                   check=True, env=environment, stdout=subprocess.DEVNULL)
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not found:
        raise SmokeError("apt-get installed no nginx")
    return found


def nginx_site(text: str, *, upstream: str, static_root: Path, media_root: Path,
               port: int) -> str:
    """ops/nginx/portal.conf with only compose's names replaced by this machine's."""
    replacements = {
        "proxy_pass http://web:8000;": f"proxy_pass http://{upstream};",
        "alias /app/var/staticfiles/;": f"alias {static_root}/;",
        "alias /app/var/media/;": f"alias {media_root}/;",
        "listen 80;": f"listen 127.0.0.1:{port};",
    }
    for old, new in replacements.items():
        if text.count(old) != 1:
            raise SmokeError(f"ops/nginx/portal.conf: expected {old!r} once, "
                             f"found it {text.count(old)} times")
        text = text.replace(old, new)
    return text


def nginx_main(workdir: Path, site: Path) -> str:
    """The part of the nginx image's own nginx.conf that portal.conf relies on."""
    return (f"worker_processes 1;\npid {workdir}/nginx.pid;\n"
            f"error_log {workdir}/nginx-error.log warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            "    sendfile on;\n"
            f"    access_log {workdir}/nginx-access.log;\n"
            + "".join(f"    {kind}_temp_path {workdir}/nginx-temp/{kind};\n"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + f"    include {site};\n}}\n")


# --- HTTP through nginx, as the operator's TLS proxy would send it ---------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(port: int, path: str, *, session: str | None = None,
          headers: Mapping[str, str] | None = None, form: Mapping[str, str] | None = None,
          ) -> Answer:
    """GET (or POST `form`) through nginx, as the operator's TLS proxy forwards a request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    sent = {"Host": HOST, "X-Forwarded-Proto": "https",
            "X-Forwarded-For": f"{FORGED_ADDRESS}, {CLIENT_ADDRESS}", **(headers or {})}
    if session:
        sent["Cookie"] = f"sessionid={session}"
    body = None
    if form is not None:
        body = urlencode(form)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request("GET" if form is None else "POST", path, body=body, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, {key.lower(): value for key, value in
                                        response.getheaders()}, response.read())
    finally:
        connection.close()


# --- The lane ---------------------------------------------------------------------------------


@dataclass
class Lane:
    workdir: Path
    processes: list[Process] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def check(self, name: str, test: Callable[[], str | None]) -> None:
        """Run one check; print it with its time; a failure is recorded, the lane goes on."""
        started = time.monotonic()
        try:
            detail = test()
        except (CheckFailed, SmokeError, OSError) as error:
            self.failures.append(name)
            print(f"  FAIL {name} ({time.monotonic() - started:.1f} s): {error}", flush=True)
            return
        note = f" — {detail}" if detail else ""
        print(f"  ok   {name} ({time.monotonic() - started:.1f} s){note}", flush=True)

    def spawn(self, name: str, argv: list[str], environment: dict[str, str]) -> Process:
        process = Process(name, argv, environment, self.workdir / f"{name}.log").start()
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        """Every process group at once: SIGTERM, then 20 s for all of them, then SIGKILL."""
        for process in self.processes:
            process.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            process.stop(timeout=max(0.0, deadline - time.monotonic()))


def base_environment(variables: Mapping[str, str], *, database_url: str,
                     redis_urls: tuple[str, str], gateway: Any, workdir: Path,
                     web_port: int) -> dict[str, str]:
    """.env.example, then only what must differ on this machine."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        **variables,
        **IMAGE_ENV,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_urls[0],
        "CACHE_REDIS_URL": redis_urls[1],
        "MEDIA_ROOT": str(workdir / "media"),
        "STATIC_ROOT": str(workdir / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SITE_URL": f"https://{HOST}",
        "ALIYUN_SMS_ACCESS_KEY_ID": gateway.access_key_id,
        "ALIYUN_SMS_ACCESS_KEY_SECRET": gateway.access_key_secret,
        "ALIYUN_SMS_SIGN_NAME": gateway.sign_name,
        "ALIYUN_SMS_TEMPLATE_CODE": "SMS_100000001",
        "ALIYUN_SMS_TEMPLATE_NOTICE": "SMS_100000002",
        "ALIYUN_SMS_ENDPOINT": gateway.endpoint,
        # Beat sends the escalation sweep every second instead of every minute.
        "PETITIONS_SWEEP_SECONDS": "1",
    }


def generated_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": fernet_key(),
        "FIELD_BLIND_INDEX_KEY": secrets.token_hex(32),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(32),
        "PORTAL_VERSION": "smoke",
    }


# What must differ on this machine wins over a service's own `environment:` (DATABASE_URL).
MACHINE_KEYS = ("DATABASE_URL", "REDIS_URL", "CACHE_REDIS_URL", "MEDIA_ROOT", "STATIC_ROOT",
                "GUNICORN_BIND", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "PATH")


def start_stack(lane: Lane, services: list[Service], variables: dict[str, str],
                environment: dict[str, str], web_port: int) -> dict[str, Process]:
    """Each service once its dependencies are met, as compose does; then wait until each is
    ready (migrate: exited 0; web: /healthz answers; worker: "ready."; beat: "Starting")."""
    started: dict[str, Process] = {}
    for service in services:
        for dependency, condition in service.depends_on.items():
            if dependency in started and condition == COMPLETED:
                code = started[dependency].wait_exit(timeout=300)
                if code != 0:
                    raise SmokeError(f"{dependency} exited {code}:\n"
                                     f"{started[dependency].log()[-3000:]}")
        service_environment = {**environment,
                               **{key: interpolate(value, variables)
                                  for key, value in service.environment.items()}}
        service_environment.update({key: environment[key] for key in MACHINE_KEYS})
        # The metrics volume's directories (docker-compose.yml), under this run's own folder.
        metrics_dir = service_environment.get("PROMETHEUS_MULTIPROC_DIR")
        if metrics_dir:
            service_environment["PROMETHEUS_MULTIPROC_DIR"] = str(
                lane.workdir / "metrics" / Path(metrics_dir).name)
        say(f"start {service.name}: {' '.join(service.command)}")
        started[service.name] = lane.spawn(service.name, list(service.command),
                                           service_environment)
    say("waiting for web, worker and beat to be ready")
    for name, process in started.items():
        if name == "web":
            wait_for(lambda web=process: _healthz(web_port, web), timeout=60,
                     what="web's /healthz")
        elif name == "worker":
            process.wait_log("ready.", timeout=60)
        elif name == "beat":
            process.wait_log("beat: Starting", timeout=60)
    return started


def _healthz(port: int, process: Process) -> bool:
    if process.exited() is not None:
        raise SmokeError(f"web exited ({process.exited()}):\n{process.log()[-3000:]}")
    try:
        answer = fetch(port, "/healthz")
    except OSError:
        return False
    return answer.status == 200


def start_nginx(lane: Lane, *, web_port: int, environment: dict[str, str]) -> int:
    binary = nginx_binary()
    port = free_port()
    workdir = lane.workdir
    site = workdir / "portal.conf"
    site.write_text(nginx_site((REPO / "ops/nginx/portal.conf").read_text(encoding="utf-8"),
                               upstream=f"127.0.0.1:{web_port}",
                               static_root=Path(environment["STATIC_ROOT"]),
                               media_root=Path(environment["MEDIA_ROOT"]), port=port))
    main = workdir / "nginx.conf"
    main.write_text(nginx_main(workdir, site))
    (workdir / "nginx-temp").mkdir()
    argv = [binary, "-p", str(workdir), "-e", str(workdir / "nginx-error.log"), "-c", str(main)]
    test = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)  # noqa: S603
    if test.returncode != 0:
        raise SmokeError(f"nginx -t:\n{test.stderr}")
    process = lane.spawn("nginx", [*argv, "-g", "daemon off;"], dict(os.environ))
    wait_for(lambda: _listening(port, process), timeout=20, what="nginx")
    return port


def _listening(port: int, process: Process) -> bool:
    if process.exited() is not None:
        raise SmokeError(f"nginx exited:\n{process.log()}")
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def collect_static(environment: dict[str, str], workdir: Path) -> None:
    """The Dockerfile's build step (collectstatic under the local settings) into STATIC_ROOT."""
    # The venv's python (first on PATH), as the image's is.
    result = subprocess.run(
        ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"],  # noqa: S607
        cwd=REPO,
        env={**environment, "DJANGO_ENV": "local"}, capture_output=True, text=True,
        timeout=180, check=False)
    if result.returncode != 0:
        raise SmokeError(f"collectstatic:\n{result.stdout}{result.stderr}")


def make_fixtures(environment: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - the venv's python (PATH), as in the image
        ["python", str(REPO / "ops/smoke_fixtures.py")], cwd=REPO, env=environment,  # noqa: S607
        capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise SmokeError(f"ops/smoke_fixtures.py:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_checks(lane: Lane, *, port: int, fixtures: dict[str, Any], database_url: str,
               processes: dict[str, Process], refusal: Callable[[], str | None]) -> None:
    sessions = fixtures["sessions"]
    own, other = fixtures["own_photo"], fixtures["other_photo"]
    stored = Path(own["path"]).read_bytes()
    static_path = "/static/admin/css/base.css"

    def home() -> str:
        answer = fetch(port, "/")
        expect(answer.status == 200, f"status {answer.status}")
        return f"{len(answer.body)} bytes"

    def healthz() -> str:
        answer = fetch(port, "/healthz")
        expect(answer.status == 200, f"status {answer.status}: {answer.body[:200]!r}")
        return answer.body.decode()

    def hsts() -> str:
        header = fetch(port, "/healthz").headers.get("strict-transport-security", "")
        expect(header and "preload" not in header, f"Strict-Transport-Security: {header!r}")
        return header

    def static() -> str:
        answer = fetch(port, static_path, headers={"Accept-Encoding": "gzip"})
        expect(answer.status == 200, f"status {answer.status}")
        expect(answer.headers.get("content-encoding") == "gzip", "not gzipped")
        expect("x-request-id" not in answer.headers, "answered by gunicorn, not nginx")
        return "gzip, by nginx"

    def own_photo() -> str:
        answer = fetch(port, own["url"], session=sessions["resident"])
        expect(answer.status == 200, f"status {answer.status}")
        expect(answer.body == stored, f"{len(answer.body)} bytes, not the stored "
               f"{len(stored)} (X-Accel-Redirect not followed?)")
        # nginx's static module adds these; a file streamed by Django has neither.
        expect("etag" in answer.headers and answer.headers.get("accept-ranges") == "bytes",
               "not sent by nginx (no ETag / Accept-Ranges)")
        digest = hashlib.sha256(answer.body).hexdigest()[:12]
        return f"{answer.headers.get('content-type')}, {len(answer.body)} bytes, sha256 {digest}…"

    def refused(path: str, session: str | None) -> Callable[[], str]:
        def test() -> str:
            answer = fetch(port, path, session=session)
            expect(answer.status in (403, 404), f"status {answer.status}")
            expect(stored not in answer.body, "the photo's bytes were sent")
            return f"status {answer.status}"
        return test

    def staff_photo() -> str:
        answer = fetch(port, own["url"], session=sessions["staff"])
        expect(answer.status == 200 and answer.body == stored,
               f"status {answer.status}, {len(answer.body)} bytes")
        return f"the holder ({own['holder']})"

    def escalation() -> str:
        import psycopg

        petition = fixtures["overdue"]

        def escalated() -> tuple[str, int] | None:
            with psycopg.connect(database_url) as connection:
                tier = connection.execute("SELECT tier FROM petitions_petition WHERE id = %s",
                                          [petition["id"]]).fetchone()[0]
                events = connection.execute(
                    "SELECT count(*) FROM petitions_petitionevent WHERE petition_id = %s "
                    "AND kind = 'escalated'", [petition["id"]]).fetchone()[0]
            return (tier, events) if tier != petition["tier"] and events else None

        tier, events = wait_for(escalated, timeout=60, what="the escalation", interval=0.5)
        expect(re.search(r"petitions\.sweep\[.*'escalated': [1-9]", processes["worker"].log()),
               "no sweep of the worker escalated anything")
        return f"{petition['tier']} → {tier}, {events} event by the worker"

    def client_address() -> str:
        """A failed staff sign-in, POSTed through both proxies (CSRF included): django-axes
        records the address NUM_PROXIES picks out of X-Forwarded-For."""
        import psycopg

        page = fetch(port, "/accounts/login/")
        expect(page.status == 200, f"sign-in page: status {page.status}")
        cookie = re.search(r"csrftoken=([^;]+)", page.headers.get("set-cookie", ""))
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        expect(cookie and token, "no CSRF cookie or token on the sign-in page")
        answer = fetch(port, "/accounts/login/", form={
            "csrfmiddlewaretoken": token.group(1).decode(), "username": "smoke-micro",
            "password": "not-the-password"}, headers={
            "Cookie": f"csrftoken={cookie.group(1)}", "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}/accounts/login/"})
        expect(answer.status == 200, f"sign-in POST: status {answer.status}")
        with psycopg.connect(database_url) as connection:
            rows = connection.execute("SELECT ip_address FROM axes_accessattempt "
                                      "WHERE username = 'smoke-micro'").fetchall()
        expect([str(row[0]) for row in rows] == [CLIENT_ADDRESS],
               f"recorded {rows}, not {CLIENT_ADDRESS}")
        return f"{CLIENT_ADDRESS} (not the forged {FORGED_ADDRESS}, not nginx's 127.0.0.1)"

    def alive() -> str:
        dead = {name: process.exited() for name, process in processes.items()
                if name != MIGRATE and process.exited() is not None}
        expect(not dead, f"exited: {dead}")
        return ", ".join(name for name in processes if name != MIGRATE)

    lane.check("home page 200", home)
    lane.check("/healthz 200", healthz)
    lane.check("HSTS sent, without preload (opt-in)", hsts)
    lane.check(f"static file by nginx ({static_path})", static)
    lane.check("a resident's own petition photo 200, sent by nginx (X-Accel-Redirect)", own_photo)
    lane.check("another resident's photo refused", refused(other["url"], sessions["resident"]))
    lane.check("the photo refused to anonymous", refused(own["url"], None))
    lane.check("staff in scope get the photo", staff_photo)
    lane.check("staff out of scope refused", refused(own["url"], sessions["outsider"]))
    internal = own["url"].replace("/media/", "/protected-media/", 1)
    lane.check("/protected-media/ is internal", refused(internal, sessions["resident"]))
    lane.check("an overdue petition escalated by the worker and beat", escalation)
    lane.check("the client's address through both proxies (NUM_PROXIES=2)", client_address)
    lane.check("web, worker and beat still running", alive)
    lane.check("web refuses to start without FIELD_ENCRYPTION_KEYS", refusal)


def refusal_check(lane: Lane, web: Service, environment: dict[str, str]) -> Callable[[], str]:
    """The web command, its environment without FIELD_ENCRYPTION_KEYS: it must exit non-zero
    and name the variable (not serve, and not fail later on the first ID number written)."""

    def test() -> str:
        port = free_port()
        reduced = {key: value for key, value in environment.items()
                   if key != "FIELD_ENCRYPTION_KEYS"}
        reduced["GUNICORN_BIND"] = f"127.0.0.1:{port}"
        process = lane.spawn("web-without-keys", list(web.command), reduced)

        def ended_or_serving() -> bool:
            return process.exited() is not None or _answers(port)

        wait_for(ended_or_serving, timeout=60, what="web without keys to exit")
        code = process.exited()
        process.stop()
        expect(code is not None, "it started and served requests")
        expect(code != 0, "it exited 0")
        expect("FIELD_ENCRYPTION_KEYS" in process.log(), "its output does not name the variable")
        return f"exit {code}"

    return test


def _answers(port: int) -> bool:
    try:
        return fetch(port, "/healthz").status == 200
    except OSError:
        return False


def run(compose_path: Path, env_example_path: Path) -> int:
    started = time.monotonic()
    services = app_services(load_compose(compose_path))
    print("app services, in start order: "
          + ", ".join(f"{service.name} (after {', '.join(service.depends_on) or 'nothing'})"
                      for service in services), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="portal-smoke-"))
    # nginx's workers (nobody) read the static and media roots, as the nginx user does in
    # compose: the files the portal writes must be readable by another user.
    workdir.chmod(0o755)
    lane = Lane(workdir)
    redis_numbers = tuple(int(number) for number in
                          os.environ.get("SMOKE_REDIS_DBS", "13,14").split(","))
    try:
        with (fresh_database(os.environ.get("SMOKE_PG", "postgres://postgres@127.0.0.1:5432"))
              as database_url,
              flushed_redis(os.environ.get("SMOKE_REDIS", "redis://127.0.0.1:6379"),
                            redis_numbers) as redis_urls,  # type: ignore[arg-type]
              sms_gateway() as gateway):
            variables = {**read_env_file(env_example_path), **generated_secrets()}
            web_port = free_port()
            environment = base_environment(variables, database_url=database_url,
                                           redis_urls=redis_urls, gateway=gateway,
                                           workdir=workdir, web_port=web_port)
            try:
                say("collectstatic (the Dockerfile's build step)")
                collect_static(environment, workdir)
                processes = start_stack(lane, services, variables, environment, web_port)
                port = start_nginx(lane, web_port=web_port, environment=environment)
                say(f"nginx on 127.0.0.1:{port} → gunicorn on 127.0.0.1:{web_port}")
                say("fixtures (ops/smoke_fixtures.py)")
                fixtures = make_fixtures(environment)
                say("checks, through nginx")
                web = next(service for service in services if service.name == "web")
                run_checks(lane, port=port, fixtures=fixtures, database_url=database_url,
                           processes=processes,
                           refusal=refusal_check(lane, web, environment))
                if gateway.refused:
                    lane.failures.append("sms")
                    print(f"  FAIL the SMS gateway refused: {gateway.refused}", flush=True)
            except SmokeError as error:
                lane.failures.append("start")
                print(f"  FAIL {error}", flush=True)
            finally:
                if lane.failures:
                    _print_logs(lane)
                lane.stop_all()
    finally:
        if lane.failures:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    verdict = "FAILED: " + ", ".join(lane.failures) if lane.failures else "passed"
    print(f"smoke lane {verdict} in {time.monotonic() - started:.1f} s", flush=True)
    return 1 if lane.failures else 0


def _print_logs(lane: Lane) -> None:
    for process in lane.processes:
        print(f"--- {process.name} (last lines of {process.log_path.name})")
        print("\n".join(process.log().splitlines()[-25:]))
    error_log = lane.workdir / "nginx-error.log"
    if error_log.exists():
        print("--- nginx-error.log")
        print("\n".join(error_log.read_text(errors="replace").splitlines()[-25:]))


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compose", type=Path, default=REPO / "docker-compose.yml")
    parser.add_argument("--env-example", type=Path, default=REPO / ".env.example")
    parser.add_argument("--timeout", type=int, default=600,
                        help="the whole lane's bound, in seconds")
    arguments = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGALRM, _terminate)
    signal.alarm(arguments.timeout)
    try:
        sys.exit(run(arguments.compose, arguments.env_example))
    except SmokeError as error:
        print(f"smoke lane FAILED: {error}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
