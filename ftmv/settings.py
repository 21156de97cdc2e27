"""ftmv settings: one module, configured from environment variables.

Local defaults need no server at all (SQLite database, SQLite-backed Celery
broker, database cache, files under var/). Production sets DEBUG=false and
then must provide SECRET_KEY and ALLOWED_HOSTS; see README "Configuration".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FTMV_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
TESTING = env_bool("FTMV_TESTING", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Absolute URLs in API responses (result_url...) are built from the request;
# behind a proxy set SITE_URL so they point at the public address.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
# The address printed by `make run` (bootstrap) and named in e-mails (the Sites framework's domain, which
# allauth puts in subjects and bodies): SITE_DOMAIN, else SITE_URL's host, else the local address gunicorn
# listens on (WEB_PORT, as in the Procfile). The one place that decides it: nothing may assume port 8000.
WEB_PORT = env_int("WEB_PORT", 8000)
SITE_DOMAIN = os.environ.get("SITE_DOMAIN", "") or urlsplit(SITE_URL).netloc or f"127.0.0.1:{WEB_PORT}"
PUBLIC_BASE_URL = SITE_URL or f"http://{SITE_DOMAIN}"
# Links in allauth's e-mails use the request's scheme unless told: https when SITE_URL is https.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https://") else "http"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc bundles served from /static (no CDN)
    "allauth",
    "allauth.account",
    "core.apps.CoreConfig",  # label "ftmv": the heartbeat table and migration history stay as they were
    "accounts",
    "billing",
    "tryon",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "api.auth_throttle.FailedAuthThrottleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "ftmv.urls"
WSGI_APPLICATION = "ftmv.wsgi.application"
ASGI_APPLICATION = "ftmv.asgi.application"

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

# --- Database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Web, worker and beat share the file: wait for locks instead of failing,
    # and take the write lock at BEGIN so concurrent writers queue up cleanly.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so that worker processes started by the tests see it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"].setdefault("OPTIONS", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared by every process: rate limits, idempotency) -----------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES: dict[str, dict] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "ftmv"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "ftmv_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Celery ---------------------------------------------------------------------
# Embedded default: kombu's SQLAlchemy transport on a SQLite file (no server).
# Not the filesystem:// transport, which was seen to lose races.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith("sqla+"):
    # kombu hands these to SQLAlchemy's create_engine: wait for SQLite's lock
    # rather than fail when web, worker and beat write at the same moment.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"connect_args": {"timeout": 30}}
else:
    # A task not acknowledged within this time (its worker died) is delivered again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # tasks write their results to the database
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_IMAGE_QUEUE = "images"
CELERY_TASK_ROUTES = {"tryon.tasks.*": {"queue": CELERY_IMAGE_QUEUE}}
# Task modules autodiscovery (<app>.tasks) does not find: the worker imports them at start.
CELERY_IMPORTS = ["tryon.maintenance", "tryon.webhooks"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "worker-heartbeat": {"task": "ftmv.tasks.heartbeat", "schedule": 30.0},
}

# --- ONNX Runtime -----------------------------------------------------------------
ONNX_PROVIDERS = env_list("ONNX_PROVIDERS", "CUDAExecutionProvider,CPUExecutionProvider")
ONNX_THREADS = env_int("ONNX_THREADS", 0)
# The try-on engine (imaging.tryon.engines): a registered name ("classical"...), or "auto" for the most
# preferred one that can run here. A worker on the images queue checks it at start and refuses to start
# when a named engine cannot run; /healthz reports it.
TRYON_ENGINE = os.environ.get("TRYON_ENGINE", "auto").strip() or "auto"
# The learned engine's bundle (tools/export_fashn_vton.py makes it from the operator's download) and the
# generator precision it runs: auto = float16 on CUDA when the bundle has it, float32 elsewhere.
FASHN_VTON_DIR = os.environ.get("FASHN_VTON_DIR", "").strip()
FASHN_VTON_PRECISION = os.environ.get("FASHN_VTON_PRECISION", "auto").strip() or "auto"

# --- Auth -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SITE_ID = 1
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
# Confirming the e-mail address logs the new user in (allauth does so only in the browser session that
# signed up): no second log-in right after sign-up.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False

# Free credits granted to every new account: by default enough to try each style once on a fresh install
# (billing is off by default): one try-on (CREDIT_COST_TRYON, 1) and one 6-image catalog
# (CREDIT_COST_CATALOG[6], 24). tests/web/test_credit_gate.py holds the default to that rule.
SIGNUP_FREE_CREDITS = env_int("SIGNUP_FREE_CREDITS", 25)

# --- E-mail -------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ftmv <noreply@localhost>")

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
# S3-compatible storage when a bucket is configured (django-storages): uploads, results, thumbnails and
# catalog zips then live in the bucket, so web and workers on different machines share no folder. Objects
# are private (no ACL is sent: the bucket's own policy, which must block public access, applies); the API
# hands out signed URLs valid for AWS_QUERYSTRING_EXPIRE seconds, and the site serves files through its
# own views. Keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the machine's IAM role: boto3's
# usual chain). AWS_S3_ENDPOINT_URL names a non-AWS server (MinIO, Ceph, moto), usually with
# AWS_S3_ADDRESSING_STYLE=path. README "Production on two hosts" lists them all.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage: dict = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None,
            "signature_version": "s3v4",
            "location": os.environ.get("AWS_LOCATION", "").strip("/"),
            "querystring_auth": True,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 3600),
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Upload limits -------------------------------------------------------------------
# Two base64 photos of up to ~15 MB each fit; anything larger is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 40 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security (production) -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (core.security): no inline scripts anywhere on the site; style attributes
# carry dynamic widths. Media may come from an S3 endpoint. No form-action: Chrome applies it to the
# redirect to Stripe Checkout after the buy form, whose address depends on configuration.
# Only the admin's previews link to the bucket (the site serves files through its own views): by default the
# custom S3 endpoint's origin; on AWS itself set CSP_MEDIA_ORIGIN (https://<bucket>.s3.<region>.amazonaws.com).
_endpoint = urlsplit(os.environ.get("AWS_S3_ENDPOINT_URL", "")) if AWS_STORAGE_BUCKET_NAME else None
_media_origin = os.environ.get("CSP_MEDIA_ORIGIN", "") or (
    f"{_endpoint.scheme}://{_endpoint.netloc}" if _endpoint and _endpoint.netloc else ""
)
CSP_DEFAULT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    f"img-src 'self' data: blob: {_media_origin}".rstrip()
    + "; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
# The API docs pages (Swagger UI / ReDoc from drf-spectacular-sidecar, served from /static) start
# with a small inline script; ReDoc runs its search in a blob: worker.
CSP_DOCS_PATHS = ("/api/docs", "/api/redoc")
CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True  # forms carry the token in the page; no script reads the cookie

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ftmv API",
    "DESCRIPTION": "Virtual try-on and product-catalog image generation.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# One JSON line per event (python-json-logger), each with the request id and the order id it belongs to
# (core.logs): `grep <order id>` follows an order through web, worker and webhook delivery. LOG_FORMAT=plain
# prints classic lines for a person reading a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default set-up gives "django" a plain console handler of its own (with DEBUG on): its lines
        # go through the service's handler only, once.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- API -----------------------------------------------------------------------------------
# Plans (api.md "Plans and rate limits"): POST /generate calls per hour and per day, and
# orders pending or in progress at once.
API_PLANS = {
    "free": {"per_hour": 10, "per_day": 50, "concurrent": 1},
    "paid": {"per_hour": 100, "per_day": 1000, "concurrent": 5},
}
# Polling (every GET under /api/v1) has its own per-key budget, far above a 5 s poll loop.
API_POLL_LIMIT_PER_MINUTE = env_int("API_POLL_LIMIT_PER_MINUTE", 600)
# Credits per order: try-on 1; catalog by image count.
CREDIT_COST_TRYON = 1
CREDIT_COST_CATALOG = {6: 24, 12: 36}
API_MAX_REQUEST_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE  # the whole body; more -> 413
API_MAX_IMAGE_BYTES = env_int("API_MAX_IMAGE_BYTES", 15 * 1024 * 1024)  # one decoded image; more -> 413
API_MAX_IMAGE_PIXELS = env_int("API_MAX_IMAGE_PIXELS", 40_000_000)  # from the header, before decoding
API_MIN_IMAGE_SIDE = env_int("API_MIN_IMAGE_SIDE", 64)
# Seconds an order takes when there is no history yet to estimate from.
API_DEFAULT_PROCESSING_SECONDS = {"virtual_tryon": 30, "product_catalog": 60}
IDEMPOTENCY_WINDOW_HOURS = 24
# Webhooks: loopback/private targets only where allowed (development), never in production by default.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", DEBUG)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_TIMEOUT = 10
# An order in progress longer than the hard task limit (plus slack) lost its worker: it is failed
# and refunded. A pending order nobody picked up within ORDER_PENDING_TIMEOUT likewise.
ORDER_STUCK_AFTER = CELERY_TASK_TIME_LIMIT + 120
ORDER_PENDING_TIMEOUT = env_int("ORDER_PENDING_TIMEOUT", 6 * 3600)
ORDER_MAX_ATTEMPTS = 2
CELERY_BEAT_SCHEDULE["fail-stuck-orders"] = {"task": "tryon.maintenance.fail_stuck_orders", "schedule": 60.0}
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["rest_framework.permissions.AllowAny"]
# /api/docs and /api/redoc load Swagger UI and Redoc from /static (drf-spectacular-sidecar): they work
# offline and self-hosted. templates/drf_spectacular/redoc.html drops Redoc's Google Fonts link.
SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] = "SIDECAR"
SPECTACULAR_SETTINGS["SWAGGER_UI_FAVICON_HREF"] = "SIDECAR"
SPECTACULAR_SETTINGS["REDOC_DIST"] = "SIDECAR"

# --- Billing -------------------------------------------------------------------------------
# Stripe Checkout for credit packs. Without both keys billing is off: the site works, the buy
# buttons say billing is off, and staff can still grant credits (manage.py grantcredits).
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # empty: Stripe itself; tests point it at a fake
STRIPE_CURRENCY = os.environ.get("STRIPE_CURRENCY", "usd").lower()
STRIPE_TIMEOUT = env_int("STRIPE_TIMEOUT", 20)  # seconds per request to Stripe
STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", 300)  # oldest signature timestamp accepted, seconds
# Packs on sale: code, name, credits, price in the smallest currency unit. Override with a JSON
# list in CREDIT_PACKS, e.g. '[{"code": "s", "name": "Small", "credits": 50, "price_cents": 500}]'.
CREDIT_PACKS = json.loads(os.environ.get("CREDIT_PACKS") or "null") or [
    {"code": "starter", "name": "Starter", "credits": 100, "price_cents": 900},
    {"code": "pro", "name": "Pro", "credits": 500, "price_cents": 3900},
    {"code": "studio", "name": "Studio", "credits": 2000, "price_cents": 12900},
]
SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"] = ["api.schema.canonical_endpoints"]

# --- Reliability and security ----------------------------------------------------------
# Failed API-key attempts per client address (api.auth_throttle): past the limit within the
# window every API call from that address gets 429. Behind N trusted proxies the client address is
# the N-th entry from the right of X-Forwarded-For.
API_AUTH_FAILURE_LIMIT = env_int("API_AUTH_FAILURE_LIMIT", 300)
API_AUTH_FAILURE_WINDOW = env_int("API_AUTH_FAILURE_WINDOW", 600)
API_TRUSTED_PROXIES = env_int("API_TRUSTED_PROXIES", 0)
# Uploads and results of finished orders are deleted after this many days (orders and their metadata
# stay); 0 keeps files forever. Swept by beat once an hour.
MEDIA_RETENTION_DAYS = env_int("MEDIA_RETENTION_DAYS", 30)
CELERY_BEAT_SCHEDULE["purge-old-media"] = {"task": "tryon.maintenance.purge_old_media", "schedule": 3600.0}

# --- Client addresses, abuse limits, webhooks, body and image limits ---
# The client address behind TLS proxies: the number of proxies in front of the web processes that the
# operator controls. The client is then the address the outermost of them saw (X-Forwarded-For, counted
# from the right). 0 (default): REMOTE_ADDR, X-Forwarded-For ignored (a client could forge it). Used by
# the API's failed-key throttle and by allauth's login/sign-up rate limits.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", API_TRUSTED_PROXIES)
API_TRUSTED_PROXIES = TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Failed API-key attempts per key prefix per API_AUTH_FAILURE_WINDOW (the per-address limit above is far
# higher, so one office behind one address is not locked out by one broken script).
API_AUTH_FAILURE_LIMIT_PER_KEY = env_int("API_AUTH_FAILURE_LIMIT_PER_KEY", 20)
# allauth: failed logins per client address far above one office's traffic. No per-account lock (it let
# anyone lock an owner out): accounts.adapter backs off per (address, account) instead.
ACCOUNT_RATE_LIMITS = {"login_failed": "200/m/ip"}
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
LOGIN_FAILURES_FREE = env_int("LOGIN_FAILURES_FREE", 5)  # wrong passwords per address and account before waits
LOGIN_BACKOFF_MAX = env_int("LOGIN_BACKOFF_MAX", 900)  # seconds: the longest wait between tries
# Webhooks (tryon.webhooks): deliveries run on their own queue (the Procfile's `webhooks` worker), so
# slow receivers never hold up housekeeping; WEBHOOK_TIMEOUT is each attempt's total deadline. Networks
# (CIDR) that webhooks may reach although not public, for operators with internal receivers.
WEBHOOK_QUEUE = "webhooks"
CELERY_TASK_ROUTES["tryon.webhooks.deliver_webhook"] = {"queue": WEBHOOK_QUEUE}
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS")
CELERY_BEAT_SCHEDULE["resume-webhooks"] = {"task": "tryon.webhooks.resume_webhooks", "schedule": 60.0}
# Every request body, multipart uploads included, is limited to MAX_REQUEST_BYTES (core.security); first,
# so nothing reads a body that is refused.
MIDDLEWARE.insert(0, "core.security.RequestSizeLimitMiddleware")
# A load balancer's plain-http health and readiness checks are answered, not redirected to https.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# One decoded image's memory at its own bit depth (tryon.validation), checked from the header before
# decoding: 40 Mpx of 8-bit RGBA fit; a 16-bit RGBA image (8 bytes a pixel) must be half that. More -> 413.
API_MAX_IMAGE_DECODED_BYTES = env_int("API_MAX_IMAGE_DECODED_BYTES", 160_000_000)
# Sign-up answers in the same time for registered and new e-mail addresses (accounts.forms.SignupForm).
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}

# The API reference (life cycle, credits, limits, idempotency, webhooks, errors) is the schema's
# description, so Swagger UI and Redoc show it: written in api/reference.md.
SPECTACULAR_SETTINGS["DESCRIPTION"] = (BASE_DIR / "api" / "reference.md").read_text(encoding="utf-8")

# The site's own 404/500 pages with DEBUG on too, for everyone but staff (core.error_pages); outside the
# authentication middleware, so that the user is known when the response passes.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "core.error_pages.SiteErrorPagesMiddleware",
)

# --- Observability ---------------------------------------------------------------------------------------------
# Outermost: the request id (core.logs), so that every later middleware's log lines carry it, then the
# request's duration by route (core.metrics), so that refusals by the middleware below are timed too.
MIDDLEWARE.insert(0, "core.metrics.HttpMetricsMiddleware")
MIDDLEWARE.insert(0, "core.logs.RequestIdMiddleware")
# Celery leaves logging to Django's LOGGING above (ftmv.celery), so worker lines are the same JSON.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Prometheus metrics (core.metrics) at /metrics. Every process (gunicorn's workers, Celery's pool) writes its
# counts to files in PROMETHEUS_MULTIPROC_DIR, which /metrics adds up (prometheus_client's multiprocess
# mode); gunicorn removes the files of processes that are gone when it starts (gunicorn.conf.py).
PROMETHEUS_MULTIPROC_DIR = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or VAR_DIR / "metrics")
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
# prometheus_client reads the variable when it is first imported, after the settings in every process.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# A scraper sends `Authorization: Bearer <METRICS_TOKEN>`; unset, only loopback clients may read /metrics.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# A host with workers but no web process (GPU workers) serves its workers' counts on this port (0: not served),
# from one of its workers (core.metrics), with the same token rule; 0.0.0.0 to let a scraper on another host in.
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0)
WORKER_METRICS_BIND = os.environ.get("WORKER_METRICS_BIND", "127.0.0.1")
# Scrapers inside the network ask over plain http, like load balancers' health checks.
SECURE_REDIRECT_EXEMPT.append(r"^metrics$")
