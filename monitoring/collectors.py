"""What /metrics reads at scrape time, not counted by anyone: the petitions still open per tier
and how long the oldest of each has been overdue, the outbox backlog, the Celery queues' depth
and beat's heartbeat.

Three queries a scrape, each on a partial index that holds only the unfinished rows (petitions:
`petition_open_due_idx`; the SMS outbox: `outbox_pending_idx`; webhooks: `webhook_pending_idx`),
so the cost stays flat however many finished rows accumulate; one LLEN per queue on Redis. A
source that fails (the database, the broker) is left out of that scrape and counted in
`portal_scrape_errors` by source, so the rest still arrives.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from accounts.models import WechatMessage
from monitoring import heartbeat
from notifications.models import OutboundMessage
from petitions.models import OPEN_STATES, Petition, Tier, WebhookDelivery

logger = logging.getLogger(__name__)
# Not the default registry: in multiprocess mode that one is rebuilt from the files of every
# process at each scrape, and these values are read here, once, by the process that answers.
SCRAPE_REGISTRY = CollectorRegistry(auto_describe=False)
TIERS = tuple(Tier.values)


def _age(moment: datetime | None, now: datetime) -> float:
    return max((now - moment).total_seconds(), 0.0) if moment is not None else 0.0


def petition_families(now: datetime) -> list[Metric]:
    rows = (Petition.objects.filter(state__in=OPEN_STATES).order_by().values("tier")
            .annotate(count=Count("id"), oldest_due=Min("due_at")))
    by_tier: dict[str, tuple[int, datetime | None]] = {
        row["tier"]: (row["count"], row["oldest_due"]) for row in rows}
    open_family = GaugeMetricFamily("portal_petitions_open", "Open petitions by the tier holding "
                                    "them.", labels=["tier"])
    overdue_family = GaugeMetricFamily(
        "portal_petitions_oldest_overdue_seconds",
        "How long the open petition furthest past its deadline has been overdue, by tier "
        "(0: none overdue). At tier=street this is past the street deadline (督办).",
        labels=["tier"])
    for tier in TIERS:
        count, oldest_due = by_tier.get(tier, (0, None))
        open_family.add_metric([tier], count)
        overdue_family.add_metric([tier], _age(oldest_due, now))
    return [open_family, overdue_family]


def outbox_families(now: datetime) -> list[Metric]:
    # A message that failed five times is kept for the record but no longer sent.
    sendable = Q(attempts__lt=5)
    sms = (OutboundMessage.objects.filter(processed_at__isnull=True, suppressed_at__isnull=True)
           .aggregate(depth=Count("id", filter=sendable),
                      oldest=Min("created_at", filter=sendable)))
    webhooks = (WebhookDelivery.objects.filter(delivered_at__isnull=True, given_up_at__isnull=True)
                .aggregate(depth=Count("id"), oldest=Min("created_at")))
    wechat = (WechatMessage.objects.filter(processed_at__isnull=True)
              .aggregate(depth=Count("id"), oldest=Min("created_at")))
    depth = GaugeMetricFamily("portal_outbox_depth", "Outbox messages waiting to be delivered.",
                              labels=["channel"])
    oldest = GaugeMetricFamily("portal_outbox_oldest_seconds",
                               "Age of the oldest message waiting in the outbox.",
                               labels=["channel"])
    for channel, figures in (("sms", sms), ("webhook", webhooks), ("wechat", wechat)):
        depth.add_metric([channel], figures["depth"])
        oldest.add_metric([channel], _age(figures["oldest"], now))
    return [depth, oldest]


def queue_family() -> Metric | None:
    """Messages waiting in each Celery queue; None when the broker cannot be counted (eager
    mode, a broker other than Redis or the filesystem transport of `make run`)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    queues = [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")]
    broker_url: str = settings.CELERY_BROKER_URL
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        depths = _redis_depths(broker_url, queues)
    elif broker_url.startswith("filesystem://"):
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
        depths = _folder_depths(folder, queues)
    else:
        return None
    family = GaugeMetricFamily("portal_celery_queue_depth",
                               "Tasks waiting in the broker, by queue.", labels=["queue"])
    for queue, count in depths.items():
        family.add_metric([queue], count)
    return family


def _redis_depths(broker_url: str, queues: list[str]) -> dict[str, int]:
    import redis  # noqa: PLC0415 only with a Redis broker

    client = redis.Redis.from_url(broker_url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return {queue: int(client.llen(queue)) for queue in queues}
    finally:
        client.close()


def _folder_depths(folder: Path, queues: list[str]) -> dict[str, int]:
    """kombu's filesystem transport writes one `<ms>_<uuid>.<queue>.msg` file a message."""
    names = os.listdir(folder) if folder.is_dir() else []
    return {queue: sum(1 for name in names if name.partition(".")[2] == f"{queue}.msg")
            for queue in queues}


def heartbeat_families() -> list[Metric]:
    tick = GaugeMetricFamily("portal_beat_heartbeat_interval_seconds",
                             "How often beat sends its heartbeat (one tick).",
                             value=heartbeat.tick_seconds())
    families: list[Metric] = [tick]
    for name, seen_at, what in (
            ("portal_beat_last_seen_timestamp_seconds", heartbeat.beat_seen_at(), "beat sent"),
            ("portal_worker_last_seen_timestamp_seconds", heartbeat.worker_seen_at(),
             "a worker ran")):
        if seen_at is not None:
            families.append(GaugeMetricFamily(name, f"Unix time {what} the last heartbeat.",
                                              value=seen_at))
    return families


class ScrapeTimeCollector(Collector):
    SOURCES = ("petitions", "outbox", "queues", "heartbeat")

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        errors = GaugeMetricFamily("portal_scrape_errors",
                                   "1 when a source could not be read in this scrape.",
                                   labels=["source"])
        started = time.perf_counter()
        for source in self.SOURCES:
            try:
                yield from self._families(source, now)
            except Exception:
                logger.warning("metrics: %s could not be read", source, exc_info=True)
                errors.add_metric([source], 1)
            else:
                errors.add_metric([source], 0)
        yield errors
        yield GaugeMetricFamily("portal_scrape_duration_seconds",
                                "Time this scrape spent reading the sources above.",
                                value=time.perf_counter() - started)

    @staticmethod
    def _families(source: str, now: datetime) -> list[Metric]:
        if source == "petitions":
            return petition_families(now)
        if source == "outbox":
            return outbox_families(now)
        if source == "queues":
            family = queue_family()
            return [family] if family is not None else []
        return heartbeat_families()


_registered: list[ScrapeTimeCollector] = []


def register() -> None:
    """Once per process (AppConfig.ready may run twice in tests)."""
    if not _registered:
        _registered.append(ScrapeTimeCollector())
        SCRAPE_REGISTRY.register(_registered[0])
