"""The alert rules and the Grafana dashboard: they parse, and every metric they read is one the
portal exposes (read from a real scrape), so a renamed metric cannot silence an alert."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest

from tests.monitoring.conftest import parse

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "ops/prometheus/rules.yml"
DASHBOARD = REPO / "ops/grafana/dashboards/portal.json"
METRIC = re.compile(r"\b((?:portal|django)_[a-z0-9_]+|up)\b")
DURATION = re.compile(r"\d+[smhd]")
# Prometheus' own series, and the three a histogram or counter family adds.
BUILT_IN = {"up"}


@pytest.fixture
def exposed(scrape, client, db, settings, tmp_path):
    """The sample names of a scrape after a request was answered (so the request metrics exist),
    with a broker whose queue is counted (make run's filesystem transport)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path),
                                                "data_folder_out": str(tmp_path)}
    (tmp_path / "1_abc.celery.msg").write_text("{}")
    client.get("/healthz")
    from django.db import DatabaseError, connection, transaction

    from core import metrics

    # A failed query, so that django-prometheus' error counter has a series.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")

    # A label value per labelled family, as real traffic makes them.
    metrics.SWEEP_RUNS.labels(outcome="failure").inc(0)
    metrics.outbox_attempted(channel=metrics.SMS, is_success=False, is_retry=True,
                             is_given_up=True)
    metrics.outbox_attempted(channel=metrics.SMS, is_success=True, is_retry=False)
    metrics.SIGNIN_CODE_REQUESTS.labels(outcome="sent").inc(0)
    from monitoring import heartbeat

    heartbeat.beat_seen_stamp()
    heartbeat.worker_seen_stamp()
    samples = scrape()
    assert samples[("portal_celery_queue_depth", frozenset({("queue", "celery")}))] == 1
    return {name for name, _labels in samples} | BUILT_IN


def _rules():
    return [rule for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
            for rule in group["rules"]]


def test_every_alert_the_issue_asks_for_is_there_with_a_severity_and_words():
    rules = {rule["alert"]: rule for rule in _rules()}
    assert {"PortalBeatSilent", "PortalSweepFailing", "PortalOutboxBackingUp",
            "PortalOverdueBeyondStreetDeadline", "PortalHigh5xxRate"} <= set(rules)
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        assert DURATION.fullmatch(str(rule.get("for", "0s"))), name
    # Beat silent for 3 minutes: three ticks of a minute.
    assert "> 180" in rules["PortalBeatSilent"]["expr"]
    assert 'tier="street"' in rules["PortalOverdueBeyondStreetDeadline"]["expr"]
    assert 'status=~"5.."' in rules["PortalHigh5xxRate"]["expr"]


def test_every_metric_the_rules_read_is_exposed(exposed):
    for rule in _rules():
        read = set(METRIC.findall(rule["expr"]))
        assert read, rule["alert"]
        assert read - exposed == set(), rule["alert"]


def test_promtool_accepts_the_rules_where_it_is_installed():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (the test above parses and checks the rules)")
    result = subprocess.run([promtool, "check", "rules", str(RULES)],  # noqa: S603
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_fire_when_they_should_and_not_across_a_worker_restart():
    """ops/prometheus/rules_test.yml: beat silent three minutes is not yet an alert, four is; a
    sweep stale for five minutes is; a worker restart (its metrics directory emptied, the
    last-success gauge at 0 until its first sweep) is not."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    result = subprocess.run([promtool, "test", "rules", str(RULES.with_name("rules_test.yml"))],  # noqa: S603
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_parses_and_every_panel_reads_exposed_metrics(exposed):
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "portal-operations"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 10
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert set(METRIC.findall(target["expr"])) - exposed == set(), panel["title"]
            assert target["datasource"]["uid"] == "portal-prometheus"
    provisioned = yaml.safe_load((REPO / "ops/grafana/provisioning/datasources/prometheus.yml")
                                 .read_text(encoding="utf-8"))
    assert provisioned["datasources"][0]["uid"] == "portal-prometheus"


def test_prometheus_loads_the_rules_file_and_scrapes_with_the_token():
    config = yaml.safe_load((REPO / "ops/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    assert config["rule_files"] == ["/etc/prometheus/rules.yml"]
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"


def test_the_monitoring_profile_is_optional_and_wired_to_the_files():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"], name
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"]), name
    assert "./ops/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert services["prometheus"]["secrets"] == ["metrics_token"]
    assert compose["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    web_dir = services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    worker_dir = services["worker"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    # Separate directories under one volume: process ids repeat between containers.
    assert web_dir != worker_dir and Path(web_dir).parent == Path(worker_dir).parent
    assert f"metrics:{Path(web_dir).parent}" in services["web"]["volumes"]
    assert f"metrics:{Path(worker_dir).parent}" in services["worker"]["volumes"]


def test_the_web_adds_up_the_counters_every_services_processes_wrote(tmp_path):
    """Multiprocess mode: a gunicorn worker and a Celery pool process, each in its service's
    directory, with the same process id (as two containers have)."""
    from monitoring.views import SharedDirectoriesCollector

    script = ("import sys; from core import metrics; "
              "metrics.sweep_succeeded(escalated=int(sys.argv[1]), supervised=0, "
              "arrivals_missed=0, seconds=0.5, finished_at=float(sys.argv[2]))")
    for service, escalated, finished in (("web", 0, 100.0), ("worker", 4, 200.0),
                                         ("worker", 3, 150.0)):
        directory = tmp_path / service
        directory.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-c", script, str(escalated), str(finished)],  # noqa: S603
                       env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory),
                            "PYTHONPATH": str(REPO)},
                       check=True, cwd=REPO)
    registry = CollectorRegistry()
    SharedDirectoriesCollector(registry, str(tmp_path / "web"))
    samples = parse(generate_latest(registry).decode())
    assert samples[("portal_sweep_escalated_petitions_total", frozenset())] == 7
    assert samples[("portal_sweep_runs_total", frozenset({("outcome", "success")}))] == 3
    assert samples[("portal_sweep_last_success_timestamp_seconds", frozenset())] == 200.0


def test_the_web_reads_only_prometheus_files_beside_its_directory(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR may sit in a shared folder (/tmp/portal-metrics, /var/lib/…):
    another program's SQLite `*.db` in a sibling directory is not a metrics file, and reading it
    would make every scrape fail."""
    import sqlite3

    from monitoring.views import SharedDirectoriesCollector

    web = tmp_path / "web"
    web.mkdir()
    subprocess.run([sys.executable, "-c", "from core import metrics; metrics.sweep_failed()"],
                   env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(web),
                        "PYTHONPATH": str(REPO)},
                   check=True, cwd=REPO)
    other = tmp_path / "someone-elses-app"
    other.mkdir()
    with sqlite3.connect(other / "app.db") as database:
        database.execute("CREATE TABLE t (x INTEGER)")
    (other / "counter_notes.db").write_bytes(b"not a prometheus file")

    registry = CollectorRegistry()
    SharedDirectoriesCollector(registry, str(web))
    samples = parse(generate_latest(registry).decode())
    assert samples[("portal_sweep_runs_total", frozenset({("outcome", "failure")}))] == 1
