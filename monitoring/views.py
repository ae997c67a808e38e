"""/metrics (Prometheus) and /readyz (readiness). /healthz, the cheap liveness probe, is
core.views.healthz."""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from monitoring.access import metrics_allowed
from monitoring.collectors import SCRAPE_REGISTRY
from monitoring.health import run_checks


def exposition() -> bytes:
    """Every process's counters (the files of PROMETHEUS_MULTIPROC_DIR when set: gunicorn's
    workers and the Celery pool), then what this process reads now (monitoring.collectors)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
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
