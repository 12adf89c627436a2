"""Settings shared by every environment; everything that differs comes from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from config.database import database_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-development-key-not-for-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "config.admin.MendAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "knox",
    "axes",
    # Background work (trends releases): a task queue kept in PostgreSQL; tasks live in each
    # app's tasks.py, the worker is ``manage.py procrastinate worker``.
    "procrastinate.contrib.django",
    "cases",
    "ruptures",
    "api",
]

MIDDLEWARE = [
    # Checks a reused database connection without a round trip (config.database).
    "config.database.HealthCheckMiddleware",
    "api.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and the API docs' static files under gunicorn (run collectstatic).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.middleware.RequestSizeLimitMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Groups each write's row changes under one history context (django-pghistory); the
    # API adds the token-authenticated user and the request id (api.views.base).
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "api.middleware.NoStoreMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes' documentation).
    "axes.middleware.AxesMiddleware",
]

# Only writes carry a history context: pghistory's wrapper sees every statement of a request
# it wraps, so reads would pay for a context they never record.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out accounts and addresses before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# The development and test settings start the embedded server when DATABASE_URL is unset;
# importing these settings alone (production, mypy, check) never does.
DATABASES = {"default": database_config(embedded=False)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "cases.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Set-password tokens of new accounts (api: POST /users/, POST /auth/set-password/) last 72 hours.
PASSWORD_RESET_TIMEOUT = 72 * 60 * 60

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Bodies above this answer 413 before anything reads them (api.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BYTES", str(256 * 1024)))

# Access log: commit the event of a read without waiting for the WAL flush (README, "Audit
# log"). Off: every event is durable before its answer leaves.
AUDIT_ASYNC_READS = env_bool("AUDIT_ASYNC_READS", False)

# Throttle counters live in the cache, so every server process must share it: Redis
# (REDIS_URL) or the database's cache table (CACHE_BACKEND=database, after
# ``manage.py createcachetable``). Process memory is for development and tests only;
# production refuses it (config.settings.production, config.checks).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_TABLE = "mend_cache"


def cache_config() -> dict[str, str]:
    if REDIS_URL:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if os.environ.get("CACHE_BACKEND", "").strip().lower() == "database":
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


CACHES = {"default": cache_config()}

# Known tokens are kept in this cache (api.authentication), so that a request reads only its
# user's row; every process must share it, or one would miss another's revocations (process
# memory: development's single server process and tests only). None where the cache is the
# database's table, which costs the query it would save.
AUTH_TOKEN_CACHE: str | None = (
    None if CACHES["default"]["BACKEND"].endswith(".DatabaseCache") else "default"
)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    # JSON only; ``?format=`` is a filter of progress notes, not a renderer switch.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonRateThrottle",
        "api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON", "60/min"),
        "user": os.environ.get("THROTTLE_USER", "600/min"),
        "login": os.environ.get("THROTTLE_LOGIN", "10/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "api.schema.RoleAwareAutoSchema",
    "EXCEPTION_HANDLER": "api.exception_handlers.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    # Scores and items are JSON numbers, as a frontend charts them.
    "COERCE_DECIMAL_TO_STRING": False,
}

# Tokens: idle expiry 30 minutes (renewed on use, at most one write a minute), absolute expiry
# 12 hours, stored as SHA-512 digests (django-rest-knox).
REST_KNOX = {
    "TOKEN_TTL": timedelta(minutes=30),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(hours=12),
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": 20,
}

# Brute force (django-axes), three limits, none of which lets a stranger lock a clinician out
# from everywhere with a handful of requests:
# - a username from one address: 5 failures lock that pair;
# - an address alone: 5 failures (whatever usernames) lock the address;
# - a username alone: 50 failures within an hour, from any number of addresses, lock the
#   account (api.views.auth, from axes' failure log), which still stops a spread-out attack.
# Every lock lifts after its cool-off; the lockout answers 429.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_ENABLE_ACCESS_FAILURE_LOG = True
USERNAME_FAILURE_LIMIT = int(os.environ.get("USERNAME_FAILURE_LIMIT", "50"))
USERNAME_FAILURE_WINDOW = timedelta(hours=1)
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "api.authentication.lockout_response"
AXES_VERBOSE = False
# The client address for lockouts: REMOTE_ADDR unless a trusted proxy count is configured, so
# a forged X-Forwarded-For cannot dodge the per-address lockout.
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"

SPECTACULAR_SETTINGS = {
    "TITLE": "Mend API",
    "DESCRIPTION": (
        "Case notes for psychotherapists with rupture and repair as first-class structure. "
        "Authenticate with `Authorization: Token <token>` from `POST /api/v1/auth/login/`. "
        "Every 4xx answers in one error format (see `Error`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's scripts are served by Mend itself, not fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.close_request_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ClientKindEnum": "cases.choices.ClientKind",
        "RuptureKindEnum": "ruptures.choices.RuptureKind",
        "ModalityEnum": "cases.choices.Modality",
        "EpisodeStatusEnum": "ruptures.choices.EpisodeStatus",
        "ClientStatusEnum": "cases.choices.ClientStatus",
        "NoteStatusEnum": "cases.choices.NoteStatus",
        "SignalStatusEnum": "ruptures.choices.SignalStatus",
        "RepairOutcomeEnum": "ruptures.choices.RepairOutcome",
        "InitiatorEnum": "ruptures.choices.Initiator",
        "RespondentEnum": "cases.choices.Respondent",
        "RelationshipEnum": "ruptures.choices.Relationship",
        "RoleEnum": "cases.choices.Role",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("LOG_FORMAT", "json"),
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # One handler for everything: Django's own console handler (its default logging, in
        # DEBUG) would print each of its lines a second time, unformatted.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # pgserver narrates every command it runs at INFO; keep only its warnings.
        "pgserver": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # procrastinate announces every task it registers at INFO, in every process; its
        # workers' job lines (procrastinate.worker) stay.
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
    },
}
