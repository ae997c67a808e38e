"""Every metric the portal writes itself, in one place (issue 20; docs/operations.md §Monitoring).

The apps below monitoring only count here (`SWEEP_RUNS.labels(...).inc()`): the definitions are
in core, the lowest layer, so petitions, notifications and accounts may import them. What is read
from the database or the broker at scrape time (open petitions per tier, outbox and queue depth,
beat's last heartbeat) is the monitoring app's collector (monitoring/collectors.py).

With PROMETHEUS_MULTIPROC_DIR set (gunicorn's workers, the Celery pool) prometheus-client writes
each process's values to files in that directory and /metrics adds them up. A gauge therefore
says how its processes combine: the last success's timestamp is the largest any process wrote;
the last duration is the most recent one written.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SWEEP_RUNS = Counter("portal_sweep_runs", "Escalation sweeps run (petitions.sweep), by outcome.",
                     ["outcome"])
SWEEP_LAST_SUCCESS = Gauge("portal_sweep_last_success_timestamp_seconds",
                           "Unix time at which the last successful escalation sweep ended.",
                           multiprocess_mode="max")
SWEEP_DURATION = Gauge("portal_sweep_duration_seconds",
                       "How long the last successful escalation sweep took.",
                       multiprocess_mode="mostrecent")
SWEEP_ESCALATED = Counter("portal_sweep_escalated_petitions",
                          "Petitions the sweep moved up one tier (7135 escalation).")
SWEEP_SUPERVISED = Counter("portal_sweep_supervised_petitions",
                           "Petitions the sweep flagged for supervision (督办).")
SWEEP_ARRIVALS_MISSED = Counter("portal_sweep_arrivals_missed",
                                "Petitions whose arrival clock ran out (missed on-site arrival).")
SWEEP_ACCEPT_OVERDUE = Counter("portal_sweep_accept_overdue",
                               "Petitions not accepted (签收) within their tier's limit.")

OUTBOX_SENT = Counter("portal_outbox_sent", "Outbox deliveries that succeeded, by channel.",
                      ["channel"])
OUTBOX_FAILED = Counter("portal_outbox_failed", "Outbox delivery attempts that failed, by channel.",
                        ["channel"])
OUTBOX_RETRIED = Counter("portal_outbox_retried",
                         "Outbox delivery attempts after a first failed one, by channel.",
                         ["channel"])
OUTBOX_GIVEN_UP = Counter("portal_outbox_given_up",
                          "Outbox messages abandoned after their last attempt, by channel.",
                          ["channel"])

SIGNIN_CODE_REQUESTS = Counter(
    "portal_signin_code_requests",
    "Resident sign-in code requests, by outcome: sent, rate_limited (429 from the hourly "
    "limits), throttled (429 from the per-minute burst guard), send_failed.",
    ["outcome"])

SMS = "sms"
WEBHOOK = "webhook"
WECHAT = "wechat"


def sweep_succeeded(*, escalated: int, supervised: int, arrivals_missed: int, seconds: float,
                    finished_at: float, accept_overdue: int = 0) -> None:
    SWEEP_RUNS.labels(outcome="success").inc()
    SWEEP_ESCALATED.inc(escalated)
    SWEEP_SUPERVISED.inc(supervised)
    SWEEP_ARRIVALS_MISSED.inc(arrivals_missed)
    SWEEP_ACCEPT_OVERDUE.inc(accept_overdue)
    SWEEP_DURATION.set(seconds)
    SWEEP_LAST_SUCCESS.set(finished_at)


def sweep_failed() -> None:
    SWEEP_RUNS.labels(outcome="failure").inc()


def outbox_attempted(*, channel: str, is_success: bool, is_retry: bool,
                     is_given_up: bool = False) -> None:
    """One delivery attempt of one outbox message (SMS or webhook)."""
    (OUTBOX_SENT if is_success else OUTBOX_FAILED).labels(channel=channel).inc()
    if is_retry:
        OUTBOX_RETRIED.labels(channel=channel).inc()
    if is_given_up:
        OUTBOX_GIVEN_UP.labels(channel=channel).inc()
