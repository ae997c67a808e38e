"""Settings shared by every mode. Every value comes from the environment (django-environ)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_HASHES, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None


def env_secret(name: str, default: str | None = None) -> str:
    """Read NAME, or the file named by NAME_FILE (docker secrets)."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    if default is None:
        return env.str(name)
    return env.str(name, default=default)


DJANGO_ENV = env.str("DJANGO_ENV", default="local")
DEBUG = env.bool("DEBUG", default=False)
# Empty when unset (local.py and test.py set their own): production refuses an empty one
# together with everything else it refuses, in one message (config/refusal.py).
SECRET_KEY = env_secret("SECRET_KEY", default="")
# Encryption at rest of ID numbers and care notes (core.crypto): comma-separated Fernet keys, the
# first encrypts and all decrypt (rotation); and the HMAC key of the ID-number digests. Outside
# production both may be unset (keys derived from SECRET_KEY); production refuses to start so.
FIELD_ENCRYPTION_KEYS = [key.strip() for key in
                         env_secret("FIELD_ENCRYPTION_KEYS", default="").split(",") if key.strip()]
FIELD_BLIND_INDEX_KEY = env_secret("FIELD_BLIND_INDEX_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_celery_beat",
    "import_export",
    "treebeard",
    "core",
    "territory",
    "accounts",
    "axes",
    "notifications",
    "governance",
    "residents",
    "petitions",
    "deliberation",
    "volunteers",
    "privacy",
    "reports",
    "monitoring",
    "django_prometheus",
]

# django-prometheus counts every request and its latency between its Before (first) and After
# (last) middleware (bench/metrics_middleware.py measures the cost).
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
# Staff sign-in (username and password) lands on the petitions workbench, their queues.
STAFF_LOGIN_REDIRECT_URL = "petitions:staff-queue"
LOGOUT_REDIRECT_URL = "home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread",
                "core.context_processors.calendar_notice",
                "territory.context_processors.street",
                "accounts.context_processors.wechat_sdk",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith(".sqlite3"):
    # WAL and a busy timeout let the web process, the worker and beat share one file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    # A new PostgreSQL connection costs 9-13 ms: keep them (measured, see DEVELOPERS.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Parameters bound on the server, and a statement run DB_PREPARE_THRESHOLD times on one
    # connection prepared there: PostgreSQL then plans the hot pages' statements once, not on
    # every request (its CPU a request: the workbench 5.2 -> 3.3 ms, the list API 2.3 -> 0.6;
    # bench/README.md, "Fourth round"). "off" behind a pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21; docs/operations.md §5).
    threshold = env.str("DB_PREPARE_THRESHOLD", default="5").strip().lower()
    if threshold not in ("off", "none", "") and not threshold.isdigit():
        raise ImproperlyConfigured(
            f"DB_PREPARE_THRESHOLD={threshold!r}: a number of runs (5) or off")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=int(threshold) if threshold.isdigit() else None)
# django-prometheus' wrappers of the same backends count queries, errors and connections per
# database (/metrics); they change nothing else (connection.vendor stays postgresql/sqlite).
# core.dbbackends are those wrappers with their labelled children looked up once, not on every
# statement (bench/db_wrapper.py).
PROMETHEUS_DB_ENGINES = {
    "django.db.backends.postgresql": "core.dbbackends.postgresql",
    "django.db.backends.sqlite3": "core.dbbackends.sqlite3",
}
DATABASES["default"]["ENGINE"] = PROMETHEUS_DB_ENGINES.get(DATABASES["default"]["ENGINE"],
                                                           DATABASES["default"]["ENGINE"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# None in the test settings: whitenoise serves from the finders there.
STATIC_ROOT: environ.Path | None = env.path("STATIC_ROOT",
                                            default=environ.Path(VAR_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=environ.Path(VAR_DIR / "media"))
# Photos are served only by core.views.MediaView after the owning row's check. Behind nginx,
# the prefix of its internal location (e.g. "/protected-media/", aliased to MEDIA_ROOT): the view
# then answers X-Accel-Redirect and nginx sends the bytes. Empty: the view streams the file.
MEDIA_ACCEL_REDIRECT = env.str("MEDIA_ACCEL_REDIRECT", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Files are limited one by one in the upload validators; this bounds the rest of the body.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=8 * 1024 * 1024)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# A form posted without a valid token gets a page in the user's language, not Django's
# developer page (core.views.csrf_failure).
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Defence in depth only: import-export drops one leading "=" (not + - @, not "==");
# residents.resources escapes every formula-like cell itself.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# The one map (/reports/map/) draws the outlines on a blank background; with a tile server
# (an intranet one, or 天地图 with its key in the URL's tk=) it lays them over its base map.
# Leaflet's URL template: {z}/{x}/{y}, and {s} for a subdomain. Empty: no tiles, no request
# leaves the portal. The tiles' origin is added to the CSP's img-src.
MAP_TILE_URL = env.str("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="")


def tile_source(url: str) -> str:
    """The CSP source of a tile URL template: scheme and host, its `{s}` label as `*`."""
    parts = urlsplit(url)
    labels = parts.netloc.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    return f"{parts.scheme}://{'.'.join(labels)}"


MAP_TILE_SOURCES = [tile_source(MAP_TILE_URL)] if MAP_TILE_URL else []

# Content-Security-Policy (django-csp). Scripts only from our own origin or inline with this
# response's nonce (`<script nonce="{{ request.csp_nonce }}">`); no inline event handlers. Style
# *elements* likewise; style *attributes* are allowed (style-src-attr) because the admin's
# import/export pages, DRF's browsable API and ECharts' tooltips write them and cannot be given a
# nonce: an attribute can restyle an element but cannot run script or load from elsewhere.
# sha256 of `onSelectToggleChange(event)` (import_export/templates/admin/import_export/export.html)
IMPORT_EXPORT_SELECT_ALL = "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        # The one inline handler left: django-import-export's "select all" box on the admin's
        # export page. 'unsafe-hashes' admits exactly that attribute text, nothing else.
        "script-src-attr": [UNSAFE_HASHES, IMPORT_EXPORT_SELECT_ALL],
        "img-src": [SELF, "data:", "blob:", *MAP_TILE_SOURCES],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, int | str | bool] = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# A killed pool child must not lose its task: ack late AND reject on worker loss, and keep the
# broker's visibility timeout (above) longer than the longest task (time limits below).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
BEAT_HEARTBEAT_SECONDS = env.float("BEAT_HEARTBEAT_SECONDS", default=60.0)
# The whole beat schedule, in one place. Each app adds its entries below its own comment line.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # --- notifications ---
    # --- monitoring ---
    # Every BEAT_HEARTBEAT_SECONDS (a minute): beat's heartbeat, stamped as beat sends it; /readyz
    # fails and the BeatSilent alert fires when two ticks pass without one (monitoring.heartbeat).
    "monitoring-beat-heartbeat": {"task": "monitoring.beat_heartbeat",
                                  "schedule": BEAT_HEARTBEAT_SECONDS},
    # Every minute: send whatever the outbox still holds (after a crash or a failed send).
    "outbox-deliver": {"task": "notifications.outbox_deliver", "schedule": 60.0},
    # Every minute: WeChat template messages due (retries with backoff, SMS fallback).
    "wechat-outbox-deliver": {"task": "accounts.wechat_outbox_deliver", "schedule": 60.0},
    # --- petitions ---
    # Every minute: missed arrivals, escalation of overdue petitions, supervision flags (7135).
    # (PETITIONS_SWEEP_SECONDS lets the integration test run it every second.)
    "petitions-sweep": {"task": "petitions.sweep",
                        "schedule": env.float("PETITIONS_SWEEP_SECONDS", default=60.0)},
    # Every minute: remind holders (催办) of clocks past SlaPolicy.reminder_share, once each.
    "petitions-remind": {"task": "petitions.remind",
                         "schedule": env.float("PETITIONS_SWEEP_SECONDS", default=60.0)},
    # Every minute: webhook deliveries whose (backed-off) next attempt is due.
    "petitions-webhooks-deliver": {"task": "petitions.webhooks_deliver", "schedule": 60.0},
    # Every hour: delete the photos kept from refused petition forms once a day old (safe twice).
    "petitions-pending-photos-purge": {"task": "petitions.pending_photos_purge",
                                       "schedule": 3600.0},
    # Every hour: 未诉先办 — raise a suggestion to staff where one category of petition recurs
    # in one building (RECURRENCE_* below); set-based, and safe twice or at once.
    "petitions-recurrence-detect": {"task": "petitions.recurrence_detect", "schedule": 3600.0},
    # Every hour: 滞留提醒 — the stalled-work digest, sent by the first run of each interval
    # (SlaPolicy.stalled_digest_interval, from 08:00) on working days; the rest find it claimed.
    "petitions-stalled-digest": {"task": "petitions.stalled_digest", "schedule": 3600.0},
    # --- deliberation ---
    # Every hour: create each compound's monthly session once its 15th is within the lead window
    # (idempotent: one session per compound and month, however often it runs).
    "deliberation-sessions-schedule": {"task": "deliberation.sessions_schedule_monthly",
                                       "schedule": 3600.0},
    # Every 15 minutes: remind action-item owners before the deadline and once after it.
    "deliberation-action-items-remind": {"task": "deliberation.action_items_remind",
                                         "schedule": 900.0},
    # Every hour: open the quarterly satisfaction survey in the quarter's last days (once each).
    "deliberation-surveys-generate": {"task": "deliberation.surveys_generate_quarterly",
                                      "schedule": 3600.0},
    # Every hour: in the quarter's last days, open the three-lists review and remind staff (once).
    "deliberation-list-reviews-remind": {"task": "deliberation.list_reviews_remind",
                                         "schedule": 3600.0},
    # Every 15 minutes: tell the compound's residents of a session starting within
    # DELIBERATION_NOTICE_DAYS, with its agenda (inbox; SMS to those who opted in); once a session.
    "deliberation-sessions-notify": {"task": "deliberation.sessions_notify_upcoming",
                                     "schedule": 900.0},
    # Every hour: on a topic's review date (review_on, 评), remind its staff and proposer (once).
    "deliberation-topics-review-remind": {"task": "deliberation.topics_review_remind",
                                          "schedule": 3600.0},
    # --- volunteers ---
    # Every 10 minutes: remind volunteers of duty shifts starting within 12 hours.
    "volunteers-shift-reminders": {"task": "volunteers.shift_reminders", "schedule": 600.0},
    # Every hour: return micro-wish claims left untouched past their deadline to the pool.
    "volunteers-wish-claims-expire": {"task": "volunteers.wish_claims_expire",
                                      "schedule": 3600.0},
    # Every hour: flag overdue care visits; alert community staff after a second miss.
    "volunteers-care-visits-overdue": {"task": "volunteers.care_visits_overdue",
                                       "schedule": 3600.0},
    # --- reports ---
    # Every hour: each street's report of the last month (and quarter) if not yet kept; the
    # first run on the 1st builds them, the rest find them kept (one per street and period).
    "reports-generate-due": {"task": "reports.generate_due", "schedule": 3600.0},
    # --- privacy (retention) ---
    # Every day: delete or anonymise personal data past its retention period (RETENTION below).
    "privacy-retention-purge": {"task": "notifications.retention_purge", "schedule": 86400.0},
}

# --- Cache (rate limits) --------------------------------------------------------------------
# Its own Redis database, apart from the broker's (REDIS_URL): clearing the cache must not drop
# queued tasks. Production refuses CACHE_REDIS_URL equal to REDIS_URL; elsewhere it defaults to it.
CACHE_REDIS_URL = env.str("CACHE_REDIS_URL", default=REDIS_URL)
if CACHE_REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "portal_cache"}}
# Sessions are read from Redis and written through to the database (cached_db): a page's session
# costs a cache GET instead of a query, and a flushed cache loses no session. Without Redis the
# cache is the database itself, so the plain database backend stays.
if CACHE_REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- DRF ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.DefaultCursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler.exception_handler",
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    # Every endpoint limits each external system by its key and each signed-in person by their
    # account (views may add per-IP throttles of their own); anonymous callers are left to those.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.throttles.ApiKeyRateThrottle",
                                 "accounts.api.throttles.SessionUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": "600/min", "anon": "60/min", "user": "600/min",
        # Finding a row by a whole phone or ID number, per account, API and admin together
        # (core.protected_lookups): a desk's day of callers, far below an oracle's thousands.
        "protected_lookup": env.str("PROTECTED_LOOKUP_RATE", default="60/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "社区治理门户 API",
    "DESCRIPTION": "Community-governance portal REST API (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package, never a CDN (and so within the CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "core.api.schema.add_error_responses"],
    # Several models have a `kind`/`category`; name their enums so the schema stays stable.
    "ENUM_NAME_OVERRIDES": {
        # volunteers
        "VolunteerTeamKindEnum": "volunteers.models.Team.Kind",
        "VolunteerActivityKindEnum": "volunteers.models.Activity.Kind",
        "VolunteerServicePostKindEnum": "volunteers.models.ServicePost.Kind",
        "VolunteerProxyServiceKindEnum": "volunteers.models.ProxyService.Kind",
        "VolunteerCareCategoryEnum": "volunteers.models.CareFile.Category",
        # petitions
        "PetitionStateEnum": "petitions.models.PetitionState",
        "PetitionTierEnum": "petitions.models.Tier",
        "PetitionSizeEnum": "petitions.models.Petition.Size",
        "PetitionChannelEnum": "petitions.models.Petition.Channel",
        "PetitionRatingEnum": "petitions.models.Petition.Rating",
        "PetitionEventKindEnum": "petitions.models.PetitionEvent.Kind",
        # governance, residents
        "AreaKindEnum": "territory.models.Area.Kind",
        "OrgNodeKindEnum": "governance.models.OrgNode.Kind",
        "PartyMemberKindEnum": "residents.models.PartyMember.Kind",
        "PartyMemberCategoryEnum": "residents.models.PartyMember.Category",
        # deliberation
        "DeliberationSessionStatusEnum": "deliberation.models.Session.Status",
        "DeliberationSessionModeEnum": "deliberation.models.Session.Mode",
        "DeliberationTopicStatusEnum": "deliberation.models.Topic.Status",
        "DeliberationDecisionModeEnum": "deliberation.models.Topic.DecisionMode",
        "DeliberationActionItemStatusEnum": "deliberation.models.ActionItem.Status",
        "DeliberationNeedStatusEnum": "deliberation.models.Need.Status",
        "DeliberationProjectStatusEnum": "deliberation.models.Project.Status",
        "DeliberationSatisfactionEnum": "deliberation.models.Satisfaction",
        # reports
        "ReportKindEnum": "reports.models.MonthlyReport.Kind",
    },
}

# --- Domain settings -------------------------------------------------------------------------
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
# The backends lived in accounts until #14: a deployment's .env written before names them by the
# old module (accounts.sms…), which is read as the new one so it sends, and is refused, alike.
if SMS_BACKEND.startswith("accounts.sms"):
    SMS_BACKEND = "notifications" + SMS_BACKEND.removeprefix("accounts")
# notifications.sms_aliyun (SMS_BACKEND=notifications.sms_aliyun.AliyunSmsBackend): the AccessKey
# pair, the registered signature (签名) and the two approved templates, code (${code}) and notice
# (${content}); production refuses to start with the console backend (accounts.E001).
ALIYUN_SMS_ACCESS_KEY_ID = env.str("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env_secret("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_TEMPLATES = {
    "code": env.str("ALIYUN_SMS_TEMPLATE_CODE", default=""),
    "notice": env.str("ALIYUN_SMS_TEMPLATE_NOTICE", default=""),
}
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="https://dysmsapi.aliyuncs.com/")
ALIYUN_SMS_TIMEOUT = env.float("ALIYUN_SMS_TIMEOUT", default=5.0)
# WeChat Official Account (公众号), core.wechat: 网页授权 sign-in, JS-SDK and template messages.
# All empty (make run, tests): the portal behaves as in any phone browser. Production refuses half
# a configuration (config/refusal.py): an AppID without its secret, or no template id.
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="")
WECHAT_APP_SECRET = env_secret("WECHAT_APP_SECRET", default="")
# The server-configuration token (服务器配置 令牌) of the account's message push.
WECHAT_TOKEN = env_secret("WECHAT_TOKEN", default="")
# Template ids (模板消息 → 我的模板): the petition-progress template, with fields first,
# keyword1 (诉求编号), keyword2 (办理进度), keyword3 (时间) and remark.
WECHAT_TEMPLATES = {
    "petition_status": env.str("WECHAT_TEMPLATE_PETITION_STATUS", default=""),
    # 议事会通知 to residents who opted in (deliberation/services/participation.py).
    "deliberation_notice": env.str("WECHAT_TEMPLATE_DELIBERATION_NOTICE", default=""),
}
WECHAT_API_URL = env.str("WECHAT_API_URL", default="https://api.weixin.qq.com/")
WECHAT_OPEN_URL = env.str("WECHAT_OPEN_URL", default="https://open.weixin.qq.com/")
WECHAT_TIMEOUT = env.float("WECHAT_TIMEOUT", default=5.0)
# WeChat sign-ins (callbacks, each a call to WeChat) from one address an hour: a resident signs
# in once a session, but a carrier's NAT puts many residents behind one address.
WECHAT_SIGNINS_PER_IP_PER_HOUR = env.int("WECHAT_SIGNINS_PER_IP_PER_HOUR", default=300)
OTP_TTL = timedelta(minutes=5)
OTP_MAX_PER_PHONE_PER_HOUR = env.int("OTP_MAX_PER_PHONE_PER_HOUR", default=5)
OTP_MAX_PER_IP_PER_HOUR = env.int("OTP_MAX_PER_IP_PER_HOUR", default=20)
OTP_MAX_ATTEMPTS = 5
OTP_MAX_GLOBAL_PER_HOUR = env.int("OTP_MAX_GLOBAL_PER_HOUR", default=2000)
OTP_RESEND_INTERVAL = timedelta(seconds=60)
# Six-digit sign-in / check-in codes (core.guesses): wrong codes a user may enter, and an
# object (session, activity) may take from everyone, in a window. 30 a quarter-hour is under
# 3,000 a day against a million codes; a hall of residents rarely mistypes 30 times.
CODE_GUESS_WINDOW = timedelta(minutes=15)
CODE_GUESSES_PER_USER = env.int("CODE_GUESSES_PER_USER", default=10)
CODE_GUESSES_PER_OBJECT = env.int("CODE_GUESSES_PER_OBJECT", default=30)
# Outbound SMS (petition progress, deliberation notices) that one number may receive; past either
# limit a message is kept in the outbox as suppressed, never sent (notifications.sms_enqueue).
SMS_MAX_PER_RECIPIENT_PER_HOUR = env.int("SMS_MAX_PER_RECIPIENT_PER_HOUR", default=5)
SMS_MAX_PER_RECIPIENT_PER_DAY = env.int("SMS_MAX_PER_RECIPIENT_PER_DAY", default=20)
# The portal's address as staff reach it, for the links in SMS (read outside any request).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How many reverse proxies in front of us set X-Forwarded-For; 0 trusts none of it.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Deliberation (deliberation/conf.py documents each): the fixed day, how far ahead the monthly
# session is created, what to do when the day is a public holiday (keep / next_workday /
# previous_workday), the supports that put a proposal on the next agenda, and the shortest
# residents' evaluation (评) of a topic before it may be closed (it also runs to the review date).
DELIBERATION_DAY = env.int("DELIBERATION_DAY", default=15)
DELIBERATION_LEAD_DAYS = env.int("DELIBERATION_LEAD_DAYS", default=14)
DELIBERATION_HOLIDAY_POLICY = env.str("DELIBERATION_HOLIDAY_POLICY", default="keep")
DELIBERATION_SUPPORT_THRESHOLD = env.int("DELIBERATION_SUPPORT_THRESHOLD", default=10)
DELIBERATION_EVALUATION_DAYS = env.int("DELIBERATION_EVALUATION_DAYS", default=7)
DELIBERATION_NOTICE_DAYS = env.int("DELIBERATION_NOTICE_DAYS", default=3)
# Placement of petitions that come with coordinates (territory/locator.py): the nearest building
# within this many metres (a building's footprint plus a phone's GPS error), and, when none is,
# a compound centre within the second radius names the community whose 待分派 queue gets it.
PLACEMENT_RADIUS_METRES = env.int("PLACEMENT_RADIUS_METRES", default=150)
PLACEMENT_COMPOUND_RADIUS_METRES = env.int("PLACEMENT_COMPOUND_RADIUS_METRES", default=400)
# 未诉先办 (petitions/recurrence.py): this many petitions of one category in one building within
# this many days raise a suggestion to staff (a deliberation topic or a needs-list entry).
RECURRENCE_MIN_COUNT = env.int("RECURRENCE_MIN_COUNT", default=3)
RECURRENCE_WINDOW_DAYS = env.int("RECURRENCE_WINDOW_DAYS", default=30)
# 协办 (petitions/cohandling.py): a body's one-time answer link works this long (and never after
# the petition is finished); a request's due date lies within it.
COHANDLING_LINK_TTL = timedelta(days=env.int("COHANDLING_LINK_TTL_DAYS", default=7))

# Volunteers: a duty shift can no longer be swapped or cancelled by its volunteer this many hours
# before it starts (staff still can until it starts): the post needs time to find someone else.
VOLUNTEER_CHANGE_CLOSES_HOURS = env.int("VOLUNTEER_CHANGE_CLOSES_HOURS", default=24)
# 考核排名 (reports/rankings.py): a grid or worker with fewer petitions than this in a rate's
# denominator is listed apart (样本不足), not ranked.
RANKING_MIN_SAMPLE = env.int("RANKING_MIN_SAMPLE", default=10)
# PIPL retention, in days (privacy.retention.retention_purge, run daily by beat): sign-in
# codes; outbound SMS (their bodies hold codes and names); inbox messages; closed petitions'
# contact name/phone and photos; care-file access logs (kept 3 years as the audit of who read
# sensitive data); staff sign-in logs (django-axes). Expired sessions are deleted too.
RETENTION = {
    "phone_code": env.int("RETENTION_PHONE_CODE_DAYS", default=1),
    "outbox": env.int("RETENTION_OUTBOX_DAYS", default=30),
    "notification": env.int("RETENTION_NOTIFICATION_DAYS", default=365),
    "petition_contact": env.int("RETENTION_PETITION_CONTACT_DAYS", default=3 * 365),
    "care_access_log": env.int("RETENTION_CARE_ACCESS_LOG_DAYS", default=3 * 365),
    "sign_in_log": env.int("RETENTION_SIGN_IN_LOG_DAYS", default=180),
}

# --- Monitoring (issue 20; docs/operations.md "Monitoring") -------------------------------------
# /metrics answers these client addresses or networks (resolved behind NUM_PROXIES, core.ip) and
# any caller with `Authorization: Bearer <METRICS_TOKEN>`; nobody when both are empty.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
METRICS_TOKEN = env_secret("METRICS_TOKEN", default="")

# Logs: "json" (one object a line, production's default) or "text" (make run). Every line carries
# the request id: the web request's, or, in a task, the one of the request that queued it.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if DJANGO_ENV == "production" else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ValueError(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # An API key in a logged request line or header is starred, and the numbers in a logged
    # request's query string are masked (core.log_filters).
    "filters": {"redact_secrets": {"()": "core.log_filters.RedactSecretsFilter"},
                "masked_request": {"()": "core.log_filters.MaskedRequestFilter"},
                "request_id": {"()": "core.log_filters.RequestIdFilter"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter",
                          "format": "[{server_time}] {message}", "style": "{"},
        "json": {"()": "core.log_filters.json_formatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                    "filters": ["request_id", "redact_secrets"]},
        # runserver's request lines (Django's default handler, plus the filter).
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server",
                          "filters": ["redact_secrets"], "level": "INFO"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["masked_request"]},
    },
}

# --- accounts: django-axes ---
# Staff password sign-in is locked per username + client IP after repeated failures; residents
# sign in by phone code (rate-limited in accounts.services) and never reach these backends.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the scope area with the user (one query a request, not two).
    # Sessions signed in before it named django.contrib.auth's: they sign in once more.
    "accounts.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
# The same client address as the phone sign-in limits: settings.NUM_PROXIES decides how far
# X-Forwarded-For is trusted (ipware's left-most default would let a client forge it).
AXES_CLIENT_IP_CALLABLE = "core.ip.client_ip"
AXES_IPWARE_PROXY_COUNT = NUM_PROXIES or None
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# accounts/admin.py shows the failed attempts in Chinese (with an unlock action) instead.
AXES_ENABLE_ADMIN = False
