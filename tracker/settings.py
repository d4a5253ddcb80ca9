"""Every setting of the service, read once from the environment (tracker/config.py).

A malformed or missing required value stops start-up with ImproperlyConfigured naming the
variable; `tracker.cli` prints it as one line.
"""

import ipaddress
import os
import re
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from tracker.config import Reader

BASE_DIR = Path(__file__).resolve().parent.parent

env = Reader(os.environ)

API_KEY = env.required("API_KEY")
# Replaced by projects and their keys, which are rows: start-up says what to run instead.
_REPLACED = {
    "INGEST_API_KEYS": "create a key per project with `error-tracker createproject NAME` (or in the admin)",
    "SENTRY_PROJECTS": "projects have their own numbers: `error-tracker createproject NAME` prints the DSN",
    "CORS_ALLOWED_ORIGINS": "name a key's origins with `error-tracker createproject NAME --origin ORIGIN`",
}
for _name, _instead in _REPLACED.items():
    if env.string(_name):
        raise ImproperlyConfigured(f"{_name} is no longer read: {_instead}")

DEBUG = env.boolean("DEBUG", False)
HOST = env.string("HOST", "0.0.0.0")
PORT = env.integer("PORT", 5010, minimum=1, maximum=65535)
WORKERS = env.integer("WORKERS", 1, minimum=1, maximum=64)
# Threads running Django per process; requests whose bodies are still arriving wait outside them.
THREADS = env.integer("THREADS", 8, minimum=1, maximum=256)
# Reports waiting for one of those threads; a report arriving past them is answered 429 at
# once, so that in a storm every client gets an answer fast and nothing else waits behind it.
MAX_QUEUED_REPORTS = env.integer("MAX_QUEUED_REPORTS", 32, minimum=1, maximum=100_000)
# A client gets this long to send its request headers, then its body, before it is dropped.
HEADER_TIMEOUT = env.number("HEADER_TIMEOUT", 10.0, minimum=0.1, maximum=3600)
BODY_TIMEOUT = env.number("BODY_TIMEOUT", 20.0, minimum=0.1, maximum=3600)
# Slow requests (body still arriving after a second) one client IP may have at once; more: 429.
UNFINISHED_REQUESTS_PER_CLIENT = env.integer("UNFINISHED_REQUESTS_PER_CLIENT", 16, minimum=1, maximum=1024)
# On SIGTERM, in-flight requests get this long to finish before workers are killed.
SHUTDOWN_TIMEOUT = env.integer("SHUTDOWN_TIMEOUT", 30, minimum=1, maximum=3600)
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", ["*"])
PUBLIC_URL = env.string("PUBLIC_URL", "http://localhost:5010").rstrip("/")
if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", PUBLIC_URL):
    raise ImproperlyConfigured(f"PUBLIC_URL is malformed: {PUBLIC_URL!r} is not like https://errors.example.com")
RETENTION_DAYS = env.integer("RETENTION_DAYS", 90, minimum=1)
RATE_LIMIT = env.string("RATE_LIMIT", "100/m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", RATE_LIMIT):
    raise ImproperlyConfigured(f"RATE_LIMIT is malformed: {RATE_LIMIT!r} is not like 100/m or 10/5s")
TRUSTED_PROXIES = env.string_list("TRUSTED_PROXIES")
try:
    TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network(entry, strict=False) for entry in TRUSTED_PROXIES]
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES is malformed: {exc}") from exc
SCRUB_FIELDS = env.string_list("SCRUB_FIELDS")

# Web pages may POST reports from the origins their project key names (projects/signals.py,
# through django-cors-headers); no origin is allowed for every key.
CORS_ALLOWED_ORIGINS = []
CORS_URLS_REGEX = r"^/api/(errors|[0-9]+/(envelope|store|security))/?$"
CORS_ALLOW_METHODS = ["POST"]
CORS_ALLOW_HEADERS = ["content-type", "x-api-key", "x-sentry-auth"]
CORS_EXPOSE_HEADERS = [
    "Retry-After", "X-Sentry-Rate-Limits", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
]
CORS_PREFLIGHT_MAX_AGE = 86400

FINGERPRINT_STRATEGY = env.choice("FINGERPRINT_STRATEGY", "line", ("line", "function", "stack"))
# Parsed source maps kept per process (releases/lookup.py), least recently used out first.
SOURCEMAP_CACHE_BYTES = env.integer("SOURCEMAP_CACHE_MB", 64, minimum=0, maximum=65536) * 1024 * 1024

_LOG_LEVELS = {"error": "ERROR", "warn": "WARNING", "warning": "WARNING", "info": "INFO", "debug": "DEBUG"}
LOG_LEVEL = env.choice("LOG_LEVEL", "info", tuple(_LOG_LEVELS))

RETENTION_FIRST_RUN_DELAY = env.integer("RETENTION_FIRST_RUN_DELAY", 300, minimum=0)

POSTMARK_API_TOKEN = env.string("POSTMARK_API_TOKEN")
POSTMARK_FROM_EMAIL = env.string("POSTMARK_FROM_EMAIL")
POSTMARK_API_URL = env.string("POSTMARK_API_URL", "https://api.postmarkapp.com/")
ALERT_EMAILS = env.string_list("ALERT_EMAILS")
ALERT_ENVIRONMENTS = env.string_list("ALERT_ENVIRONMENTS")
ALERT_MAX_PER_HOUR = env.integer("ALERT_MAX_PER_HOUR", 30, minimum=1)
ALERT_RETRY_DELAY = env.number("ALERT_RETRY_DELAY", 30.0, minimum=0)
# Alert channels may POST to private and loopback addresses only of these hosts or networks.
WEBHOOK_ALLOWED_HOSTS = env.string_list("WEBHOOK_ALLOWED_HOSTS")

# A group's distinct users are counted exactly up to this many, then estimated (ingest/users.py).
USERS_EXACT_UP_TO = 10_000

ADMIN_USERNAME = env.string("ADMIN_USERNAME")
ADMIN_PASSWORD = env.string("ADMIN_PASSWORD")
ADMIN_EMAIL = env.string("ADMIN_EMAIL")
if bool(ADMIN_USERNAME) != bool(ADMIN_PASSWORD):
    raise ImproperlyConfigured("ADMIN_USERNAME and ADMIN_PASSWORD must be set together")

# Behind https, cookies only travel encrypted, and CSRF accepts the public origin.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PUBLIC_URL.startswith("https://")
CSRF_TRUSTED_ORIGINS = [re.match(r"https?://[^/]+", PUBLIC_URL).group(0)]

# --- storage -------------------------------------------------------------------------------

DATABASE_PATH = Path(env.string("DATABASE_PATH", "./data/errors.db")).expanduser().resolve()
DATA_DIR = DATABASE_PATH.parent

if env.string("DATABASE_URL"):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # An unreachable database answers 503 within seconds instead of hanging the request.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    if not env.string("SECRET_KEY"):
        # Instances sharing a database must share the key that signs their admin sessions.
        raise ImproperlyConfigured(
            "SECRET_KEY is required with DATABASE_URL: every instance must sign sessions with the same key"
        )
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            # Django's SQLite backend plus in-process queueing of writers (see its docstring).
            "ENGINE": "tracker.sqlite_backend",
            "NAME": str(DATABASE_PATH),
            # A connection per thread, kept: opening one costs more than most queries.
            "CONN_MAX_AGE": None,
            # Concurrent writers queue on IMMEDIATE transactions (waiting up to `timeout`
            # seconds) instead of failing with "database is locked" on lock upgrade.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }


def _persistent_secret_key():
    """A SECRET_KEY generated on first start and kept beside the database.

    O_EXCL makes the first of several starting processes the only one that writes it.
    """
    path = DATA_DIR / "secret_key"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"SECRET_KEY file {path} is empty: delete it or set SECRET_KEY")
    return key


SECRET_KEY = env.string("SECRET_KEY") or _persistent_secret_key()

# The rate-limit counters. The default, one process's memory, is exact for the default single
# server process; several processes or instances need CACHE_URL=redis://… (ingest/checks.py).
CACHES = {"default": env.cache_url("CACHE_URL", "locmemcache://error-tracker")}
_CACHE_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache": "locmemcache",
    "django.core.cache.backends.redis.RedisCache": "redis",
    "django_redis.cache.RedisCache": "redis",
}
if CACHES["default"]["BACKEND"] not in _CACHE_BACKENDS:
    raise ImproperlyConfigured(
        "CACHE_URL is malformed: the rate limit needs locmemcache:// (one process) or redis://, "
        f"not {CACHES['default']['BACKEND']}"
    )
if _CACHE_BACKENDS[CACHES["default"]["BACKEND"]] == "redis":
    # django-redis, with timeouts: a Redis that drops packets must not hang every request.
    CACHES["default"]["BACKEND"] = "django_redis.cache.RedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update({"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1})
RATELIMIT_USE_CACHE = "default"
# The client as tracker.limits.client_ip sees it (TRUSTED_PROXIES); IPv6 clients count per /64.
RATELIMIT_IP_META_KEY = "tracker.limits.client_ip"
RATELIMIT_IPV6_MASK = 64
# django-ratelimit rejects per-process caches outright; ingest.checks allows one when there is
# exactly one process (and CACHE_URL above refuses the dummy cache, which counts nothing).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Django --------------------------------------------------------------------------------

INSTALLED_APPS = [
    "tracker.admin_site.TrackerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_ratelimit",
    "corsheaders",
    "projects",
    "releases",
    "errors",
    "ingest",
    "notifications",
    "maintenance",
]

MIDDLEWARE = [
    # First, so that every answer to a browser's report, a 413 or 429 included, is readable by
    # the page; the rate limit counts a request before its body is read.
    "corsheaders.middleware.CorsMiddleware",
    "tracker.limits.RateLimitMiddleware",
    "tracker.limits.RequestBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # templates/ of the repository, which an installed wheel carries as tracker/templates.
        "DIRS": [BASE_DIR / "templates", Path(__file__).resolve().parent / "templates"],
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# WhiteNoise serves the admin's files straight from the installed apps: no collectstatic step.
WHITENOISE_USE_FINDERS = True

# The spec's 256 KB cap on request bodies, compressed or not.
MAX_BODY_BYTES = 256 * 1024
# A Sentry envelope may inflate to Sentry's own limit for an event.
MAX_ENVELOPE_BYTES = 1024 * 1024
# Source maps arrive from sentry-cli in chunks (releases/uploads.py): CHUNKS_PER_REQUEST chunks of
# at most CHUNK_BYTES in one request to UPLOAD_PATH, which alone may be that large.
CHUNK_BYTES = 2 * 1024 * 1024
CHUNKS_PER_REQUEST = 4
MAX_UPLOAD_REQUEST_BYTES = CHUNKS_PER_REQUEST * CHUNK_BYTES + 256 * 1024
UPLOAD_PATH = r"^/api/0/organizations/[^/]+/chunk-upload/?$"
# Where reports arrive (tracker/urls.py): the routes MAX_QUEUED_REPORTS sheds.
REPORT_PATH = r"^/api/(errors|[0-9]{1,18}/(envelope|store|security))/?$"
# An assembled artifact bundle, and all of one project's bundles together.
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_PROJECT_BUNDLE_BYTES = 1024 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["projects.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["projects.auth.KeyAllowsRequest"],
    "DEFAULT_PARSER_CLASSES": ["ingest.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "tracker.negotiation.JSONOnlyNegotiation",
    "EXCEPTION_HANDLER": "tracker.views.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "tracker.logformat.SafeFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _LOG_LEVELS[LOG_LEVEL]},
    "loggers": {
        # Client mistakes are answered with a 4xx JSON body; Django's own request warnings
        # would only repeat them.
        "django.request": {"level": "ERROR"},
        # granian's own lines (start, stop, workers), through the same formatter.
        "_granian": {"level": "WARNING" if LOG_LEVEL in ("error", "warn", "warning") else "INFO"},
    },
}
