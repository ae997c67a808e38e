"""/metrics (Prometheus) and /readyz (readiness). /healthz, the cheap liveness probe, is
core.views.healthz."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from monitoring.access import metrics_allowed
from monitoring.collectors import SCRAPE_REGISTRY
from monitoring.compaction import folding_lock
from monitoring.health import run_checks

# prometheus-client's own file names (values.MultiProcessValue): `<type>_<pid>.db`, a gauge's
# type carrying its mode. Anything else beside the directory is someone else's file.
_PROMETHEUS_FILE = re.compile(
    r"(counter|histogram|summary|gauge_(live)?(all|sum|max|min|mostrecent))_\d+\.db")


class SharedDirectoriesCollector(MultiProcessCollector):
    """prometheus-client's multiprocess collector over the files of several directories.

    Each service writes to a directory of its own under one shared volume (web:
    /run/portal-metrics/web, worker: …/worker; docker-compose.yml): the files are named by
    process id, and two containers reuse the same ids. /metrics adds up every directory beside
    this process's own, so one scrape of the web counts the worker's sweeps too."""

    def __init__(self, registry: CollectorRegistry, own_directory: str) -> None:
        self.own_directory = Path(own_directory)
        super().__init__(registry, path=own_directory)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        root = self.own_directory.parent
        with ExitStack() as locks:
            # A fold in progress (monitoring.compaction) finishes before the files are read.
            for directory in sorted(path for path in root.iterdir() if path.is_dir()):
                locks.enter_context(folding_lock(directory, exclusive=False))
            files = sorted(str(path) for path in root.glob("*/*.db")
                           if _PROMETHEUS_FILE.fullmatch(path.name))
            return list(self.merge(files, accumulate=True))  # type: ignore[no-untyped-call]


def exposition() -> bytes:
    """Every process's counters (the files under PROMETHEUS_MULTIPROC_DIR's volume when set:
    gunicorn's workers and the Celery pool), then what this process reads now
    (monitoring.collectors)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        SharedDirectoriesCollector(registry, directory)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    return counted + generate_latest(SCRAPE_REGISTRY)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return JsonResponse({"status": "forbidden",
                             "message": _("仅限已配置的地址或持有令牌的监控系统访问。")},
                            status=403)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, else 503; the body says which failed and why."""
    is_ready, checks = run_checks()
    return JsonResponse({"status": "ready" if is_ready else "unavailable", "checks": checks},
                        status=200 if is_ready else 503,
                        json_dumps_params={"ensure_ascii": False, "indent": 1})
