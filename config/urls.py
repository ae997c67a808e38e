from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import urls as accounts_urls
from core import views as core_views
from monitoring import views as monitoring_views
from privacy import urls as privacy_urls

admin.site.site_header = _("社区治理门户 · 管理后台")
admin.site.site_title = _("社区治理门户")
admin.site.index_title = _("街道管理")

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("territory.api.urls")),
    path("", include("privacy.api.urls")),
    path("", include("residents.api.urls")),
    path("", include("petitions.api.urls")),
    path("", include("deliberation.api.urls")),
    path("", include("volunteers.api.urls")),
    path("", include("reports.api.urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    # Readiness (database, cache, migrations, broker, beat's heartbeat) and Prometheus' scrape,
    # the latter for METRICS_ALLOWED_IPS or the METRICS_TOKEN bearer only (docs/operations.md).
    path("readyz", monitoring_views.readyz, name="readyz"),
    path("metrics", monitoring_views.metrics, name="metrics"),
    # Browsers ask for /favicon.ico whatever the page links; the file is a static asset.
    path("favicon.ico", RedirectView.as_view(url=lazy(static_url, str)("favicon.ico"),
                                             permanent=True), name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    # The resident's own-data pages (privacy) share /accounts/ and its URL names.
    path("accounts/", include((accounts_urls.urlpatterns + privacy_urls.urlpatterns,
                               accounts_urls.app_name))),
    path("inbox/", include("notifications.urls")),
    path("governance/", include("governance.urls")),
    path("petitions/", include("petitions.urls")),
    path("deliberation/", include("deliberation.urls")),
    path("volunteers/", include("volunteers.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("open311/v2/", include("petitions.api.open311_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Uploaded photos, in every mode, only through the owning row's rule (core.media); behind
    # nginx the view answers with X-Accel-Redirect. FieldFile.url stays /media/<name>.
    path("media/<path:name>", core_views.MediaView.as_view(), name="media"),
]
handler404 = "core.views.page_not_found"
