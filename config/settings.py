"""Waybill settings: everything comes from the environment, with defaults that run on a bare
machine (SQLite and Celery's filesystem broker under ``var/``)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.queues import WORK_KINDS

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
# `make setup` writes .env with a generated SECRET_KEY; WAYBILL_ENV_FILE= (empty) reads none.
_env_file = env.str("WAYBILL_ENV_FILE", default=str(BASE_DIR / ".env"))
if _env_file:
    env.read_env(_env_file, overwrite=False)

VAR_DIR = Path(env.str("WAYBILL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        # Sessions, admin logins and password resets are signed with it: never guess one.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or in .env (`make setup` writes "
            "one), or set DEBUG=true for a throwaway development key."
        )
    SECRET_KEY = "waybill-debug-only-key"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Behind TLS (any production deployment) HTTPS=true turns on everything `check --deploy` asks
# for; the demo serves plain http on localhost, where secure cookies would lock the admin out.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
if env.bool("BEHIND_TLS_PROXY", default=False):
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "orders",
    "carriers",
    "routing",
    "tracking",
    "finance",
    "webhooks",
    "workflows",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.api.middleware.ApiEdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = env.str("ROOT_URLCONF", default="config.urls")
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'waybill.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE let the web process and the worker write side by side.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A health check is one more round trip per request; without it a connection that died
    # fails one request and is then replaced.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
    # Server-side binding lets psycopg prepare the statements a process repeats (the key
    # lookup, the order inserts), so PostgreSQL plans them once instead of per request.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": env.bool("PG_SERVER_SIDE_BINDING", default=True),
            "prepare_threshold": 5,
        }
    )
    # Django's bulk inserts send each column as one array. As text, psycopg escapes every
    # element in Python (a third of the time of writing 500 orders with their events and
    # deliveries); in binary there is nothing to escape.
    import psycopg
    from psycopg.types.array import ListBinaryDumper

    psycopg.adapters.register_dumper(list, ListBinaryDumper)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploaded files (proofs of delivery) go through Django's storage API: local files under the
# var dir unless STORAGES says otherwise. They are never served from MEDIA_URL: only through
# the signed, expiring links of ``tracking.pod``.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"
# What a proof-of-delivery image may be (PNG, JPEG or WebP, told from its bytes).
POD_IMAGE_MAX_BYTES = env.int("POD_IMAGE_MAX_BYTES", default=5_000_000)
POD_IMAGE_MAX_SIDE_PX = env.int("POD_IMAGE_MAX_SIDE_PX", default=4096)
POD_IMAGE_MIN_SIDE_PX = env.int("POD_IMAGE_MIN_SIDE_PX", default=16)
POD_MAX_IMAGES = env.int("POD_MAX_IMAGES", default=20)
# Where the receiver's tracking page (/t/<token>) is served, e.g. https://track.example.com;
# empty: order documents carry the path alone.
TRACKING_PAGE_BASE_URL = env.str("TRACKING_PAGE_BASE_URL", default="").rstrip("/")
# How long a signed link to a POD image (API, tracking page) stays valid.
POD_LINK_MAX_AGE_S = env.int("POD_LINK_MAX_AGE_S", default=900)

# Ordinary requests are capped at 1 MB; the bulk endpoint sets its own, larger cap.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_000_000)
API_MAX_BULK_BODY_BYTES = env.int("API_MAX_BULK_BODY_BYTES", default=16_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BULK_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["config.api.filtering.StrictQueryFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.WaybillAutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_METADATA_CLASS": "config.api.metadata.WaybillMetadata",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Waybill API",
    "DESCRIPTION": (
        "Waybill takes orders from shippers' POS, OMS and WMS systems, plans them onto "
        "carriers and routes, and reports every change back as versioned events. "
        "Authenticate with `Authorization: Bearer wb_live_…` or `wb_test_…`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags by the segment after /api/v1/: events, orders, pos, webhooks.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # 3.1 so the event payloads' JSON Schemas (nullable fields, consts) fit as they are.
    "OAS_VERSION": "3.1.0",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "webhooks.schema.add_event_schemas",
        "config.api.schema.nullable_as_type_lists",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "DeliveryStatusEnum": "webhooks.models.DeliveryStatus",
        "PlanStatusEnum": "carriers.models.PlanStatus",
        "PlanOutcomeEnum": "carriers.api.serializers.PLAN_OUTCOMES",
        "JobStatusEnum": "routing.models.JobStatus",
        "RouteStatusEnum": "routing.models.RouteStatus",
        "CarrierEventTypeEnum": "tracking.api.serializers.CARRIER_EVENT_TYPES",
        "InvoiceLineKindEnum": "finance.models.LineKind",
        "InvoiceStatusEnum": "finance.models.InvoiceStatus",
        "CostAdditionStatusEnum": "finance.models.CostAdditionStatus",
        "CostAdditionReasonEnum": "finance.models.CostAdditionReason",
        "InvoiceFindingEnum": "finance.models.Finding",
    },
}

# Celery: Redis when REDIS_URL is set, otherwise the filesystem broker (no server needed).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control", "staging", "rejected"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport with atomic writes (config/broker.py).
    CELERY_BROKER_URL = "waybillfs://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The default 1 s between polls lets a queue of small tasks drain at one a second.
        "polling_interval": 0.1,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Work is queued by kind (config/queues.py): deliveries, planning, pos-fetches, routing and
# default. Tests and benchmarks set a prefix so parallel runs never share messages.
CELERY_QUEUE_PREFIX = env.str("CELERY_QUEUE_PREFIX", default="")
WORK_QUEUES = {kind: CELERY_QUEUE_PREFIX + kind for kind in WORK_KINDS}
CELERY_TASK_DEFAULT_QUEUE = WORK_QUEUES["default"]
CELERY_TASK_ROUTES = ("config.queues.route_task",)
# The periodic jobs, all in one place.
CELERY_BEAT_SCHEDULE = {
    "pos-fetch-sweeper": {
        "task": "orders.tasks.pos_fetch_sweep",
        "schedule": timedelta(seconds=30),
    },
    "planning-sweeper": {
        "task": "carriers.tasks.planning_sweep",
        "schedule": timedelta(seconds=env.float("PLANNING_SWEEP_INTERVAL_S", default=30)),
    },
    "geocoding-sweeper": {
        "task": "orders.tasks.geocoding_sweep",
        "schedule": timedelta(seconds=env.float("GEOCODING_SWEEP_INTERVAL_S", default=60)),
    },
    "routing-job-sweeper": {
        "task": "routing.tasks.jobs_sweep",
        "schedule": timedelta(minutes=1),
    },
    "orchestration-sweeper": {
        "task": "workflows.tasks.orchestration_sweep",
        "schedule": timedelta(seconds=env.float("ORCHESTRATION_SWEEP_INTERVAL_S", default=60)),
    },
    "workflow-run-sweeper": {
        "task": "workflows.tasks.workflow_runs_sweep",
        "schedule": timedelta(seconds=env.float("WORKFLOW_SWEEP_INTERVAL_S", default=60)),
    },
    "eta-notice-sweeper": {
        "task": "notifications.tasks.eta_notices_sweep",
        "schedule": timedelta(seconds=env.float("ETA_NOTICE_SWEEP_INTERVAL_S", default=60)),
    },
    "idempotency-purge": {
        "task": "accounts.tasks.idempotency_records_purge",
        "schedule": timedelta(hours=1),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Outgoing HTTP (POS fetches, later webhooks) refuses private and loopback targets unless
# this is on; the tests and the demo turn it on.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
POS_FETCH_TIMEOUT_S = env.float("POS_FETCH_TIMEOUT_S", default=10.0)
# A queued POS fetch not taken up within this is lost (see WEBHOOK_QUEUE_LEASE).
POS_FETCH_QUEUE_LEASE = timedelta(seconds=env.float("POS_FETCH_QUEUE_LEASE_S", default=300))

IDEMPOTENCY_TTL = timedelta(hours=24)

# An order whose planning task waited this long untaken is lost (see WEBHOOK_QUEUE_LEASE)
# and queued again; an order the broker refused is queued again at the next sweep.
PLANNING_QUEUE_LEASE = timedelta(seconds=env.float("PLANNING_QUEUE_LEASE_S", default=300))
# Longer than a geocoding task's retries take (30 s + 2 min + 10 min, and its rate limit).
GEOCODING_QUEUE_LEASE = timedelta(seconds=env.float("GEOCODING_QUEUE_LEASE_S", default=1200))
# An ETA notice's task not done after this (its retries take up to an hour) is queued again.
ETA_NOTICE_QUEUE_LEASE = timedelta(seconds=env.float("ETA_NOTICE_QUEUE_LEASE_S", default=3900))
# An async event's task not done after this is taken as lost and queued again (its workflows
# are short; a run done already is never run twice).
ORCHESTRATION_QUEUE_LEASE = timedelta(seconds=env.float("ORCHESTRATION_QUEUE_LEASE_S", default=300))
# Staff workflows (workflows/engine.py): a run's message not taken within the lease is lost
# and queued again; which triggers any workflow listens to is cached per process this long.
WORKFLOW_QUEUE_LEASE = timedelta(seconds=env.float("WORKFLOW_QUEUE_LEASE_S", default=300))
WORKFLOW_TRIGGERS_CACHE_S = env.float("WORKFLOW_TRIGGERS_CACHE_S", default=30)
# A workflow that triggers itself is stopped: runs caused by runs this deep, or this many runs
# of one workflow for one order within the window.
WORKFLOW_MAX_DEPTH = env.int("WORKFLOW_MAX_DEPTH", default=5)
WORKFLOW_MAX_RUNS_PER_ORDER = env.int("WORKFLOW_MAX_RUNS_PER_ORDER", default=20)
WORKFLOW_LOOP_WINDOW = timedelta(minutes=env.float("WORKFLOW_LOOP_WINDOW_MIN", default=10))
# Order tags in these namespaces (the part before the colon) are handling requirements: only
# a service listing the tag may carry the order. Any tag some service lists is one too.
CARRIER_REQUIREMENT_TAG_NAMESPACES = env.list(
    "CARRIER_REQUIREMENT_TAG_NAMESPACES",
    default=["Handling", "Fuel", "Temperature", "Dangerous", "Equipment"],
)

# Route optimisation's travel matrices. "great-circle" needs no service (straight-line distance
# times the detour factor, a rough road/crow ratio); "osrm" asks the OSRM server at
# ROUTING_OSRM_URL for road distances and times.
ROUTING_MATRIX_PROVIDER = env.str("ROUTING_MATRIX_PROVIDER", default="great-circle")
ROUTING_OSRM_URL = env.str("ROUTING_OSRM_URL", default="")
ROUTING_DETOUR_FACTOR = env.float("ROUTING_DETOUR_FACTOR", default=1.3)
# A queued optimisation job not started within this is lost and queued again. A job may wait
# behind a solving one of up to an hour: a copy queued meanwhile finds it taken and does nothing.
ROUTING_JOB_QUEUE_LEASE = timedelta(seconds=env.float("ROUTING_JOB_QUEUE_LEASE_S", default=600))

# Geocoding orders sent without a position (orders/geocoding.py): a Nominatim-compatible
# service's base URL (its /search is called); empty means no geocoding. Nominatim's usage
# policy asks for a User-Agent naming the deployment and at most one request a second.
GEOCODER_URL = env.str("GEOCODER_URL", default="")
GEOCODER_BACKEND = env.str("GEOCODER_BACKEND", default="orders.geocoding.NominatimGeocoder")
GEOCODER_USER_AGENT = env.str("GEOCODER_USER_AGENT", default="Waybill TMS geocoder")
GEOCODER_TIMEOUT_S = env.float("GEOCODER_TIMEOUT_S", default=5.0)
# Celery's per-worker rate limit of geocoding tasks, e.g. "1/s" for the public Nominatim.
GEOCODER_RATE_LIMIT = env.str("GEOCODER_RATE_LIMIT", default="5/s")

# Customer notifications (README, "Notifications"). Email: SMTP in production
# (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the EMAIL_HOST settings), the
# file backend under var/ otherwise; a test-mode order's email always goes to that file.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=VAR_DIR / "mail")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="waybill@localhost")
NOTIFICATION_EMAIL_FROM = env.str("NOTIFICATION_EMAIL_FROM", default=DEFAULT_FROM_EMAIL)
# SMS: "file" (JSON lines under var/, the demo's and every test-mode order's) or "twilio".
SMS_PROVIDER = env.str("SMS_PROVIDER", default="file")
if SMS_PROVIDER not in ("file", "twilio"):
    raise ImproperlyConfigured(f"SMS_PROVIDER must be file or twilio, not {SMS_PROVIDER!r}.")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=VAR_DIR / "sms")
SMS_FROM = env.str("SMS_FROM", default="Waybill")
SMS_TIMEOUT_S = env.float("SMS_TIMEOUT_S", default=10.0)
TWILIO_API_URL = env.str("TWILIO_API_URL", default="https://api.twilio.com")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# A broker outage must not hold up a request: publishing gives up fast and the sweepers,
# reading the stored rows, queue the work again.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}

# Webhook delivery. The retry schedule is the wait before each attempt (Svix's: at once, 5 s,
# 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); tests shorten it through the environment.
WEBHOOK_RETRY_SCHEDULE_S = env.list(
    "WEBHOOK_RETRY_SCHEDULE_S", cast=float, default=[0, 5, 300, 1800, 7200, 18000, 36000, 36000]
)
WEBHOOK_RETRY_JITTER = env.float("WEBHOOK_RETRY_JITTER", default=0.1)
WEBHOOK_TIMEOUT_S = env.float("WEBHOOK_TIMEOUT_S", default=10.0)
WEBHOOK_DISABLE_AFTER = timedelta(days=env.float("WEBHOOK_DISABLE_AFTER_DAYS", default=5))
WEBHOOK_MAX_PAYLOAD_BYTES = env.int("WEBHOOK_MAX_PAYLOAD_BYTES", default=256_000)
WEBHOOK_SECRET_ROTATION_OVERLAP = timedelta(hours=24)
# How long a worker may hold a claimed batch before the sweeper hands it to another.
WEBHOOK_CLAIM_LEASE = timedelta(seconds=env.float("WEBHOOK_CLAIM_LEASE_S", default=120))
# How long a queued delivery message may wait before its deliveries count as lost (a broker
# restarted without its data) and the sweeper queues them again. The deliveries queue drains
# in seconds in normal running; a message still waiting is not lost, and queueing its rows
# again each sweep is what once flooded the broker. A publish the broker refused needs no
# lease: its rows are marked for the next sweep at once.
WEBHOOK_QUEUE_LEASE = timedelta(seconds=env.float("WEBHOOK_QUEUE_LEASE_S", default=300))
# Deliveries a process commits within this many seconds of queueing others are queued together
# at its end (the first after a quiet spell go at once); 0 queues each commit's own.
WEBHOOK_QUEUE_WINDOW_S = env.float("WEBHOOK_QUEUE_WINDOW_S", default=0.1)
CELERY_BEAT_SCHEDULE["webhook-delivery-sweeper"] = {
    "task": "webhooks.tasks.deliveries_sweep",
    "schedule": timedelta(seconds=env.float("WEBHOOK_SWEEP_INTERVAL_S", default=10)),
}
