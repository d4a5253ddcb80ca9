"""Every setting of the service, read once from the environment through django-environ.

A malformed or missing required value stops start-up with ImproperlyConfigured naming the
variable; `tracker.cli` prints it as one line.
"""

import ipaddress
import os
import re
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _read(name, cast, default):
    """Read one variable, turning a cast failure into a message that names it."""
    try:
        return env(name, cast=cast, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from exc


def _require(name):
    value = os.environ.get(name, "")
    if not value.strip():
        raise ImproperlyConfigured(f"{name} is required: set the {name} environment variable")
    return value


API_KEY = _require("API_KEY")
# Keys that can only submit reports, so a browser bundle can carry one without exposing the
# read and resolve API.
INGEST_API_KEYS = [key.strip() for key in _read("INGEST_API_KEYS", list, []) if key.strip()]
if API_KEY in INGEST_API_KEYS:
    raise ImproperlyConfigured("INGEST_API_KEYS is malformed: it must not contain API_KEY")

DEBUG = _read("DEBUG", bool, False)
HOST = _read("HOST", str, "0.0.0.0")
PORT = _read("PORT", int, 5010)
WORKERS = _read("WORKERS", int, 1)
THREADS = _read("THREADS", int, 8)
ALLOWED_HOSTS = _read("ALLOWED_HOSTS", list, ["*"])
PUBLIC_URL = _read("PUBLIC_URL", str, "http://localhost:5010").rstrip("/")
RETENTION_DAYS = _read("RETENTION_DAYS", int, 90)
RATE_LIMIT = _read("RATE_LIMIT", str, "100/m")
if not re.fullmatch(r"\d+/\d*[smhd]", RATE_LIMIT):
    raise ImproperlyConfigured(f"RATE_LIMIT is malformed: {RATE_LIMIT!r} is not like 100/m or 10/5s")
TRUSTED_PROXIES = _read("TRUSTED_PROXIES", list, [])
try:
    TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network(entry.strip(), strict=False) for entry in TRUSTED_PROXIES]
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES is malformed: {exc}") from exc
SCRUB_FIELDS = _read("SCRUB_FIELDS", list, [])

# Web pages on these origins may POST reports from the browser (django-cors-headers); "*" is any.
CORS_ALLOWED_ORIGINS = [origin.strip() for origin in _read("CORS_ALLOWED_ORIGINS", list, []) if origin.strip()]
CORS_ALLOW_ALL_ORIGINS = CORS_ALLOWED_ORIGINS == ["*"]
if CORS_ALLOW_ALL_ORIGINS:
    CORS_ALLOWED_ORIGINS = []
for _origin in CORS_ALLOWED_ORIGINS:
    if not re.fullmatch(r"https?://[^/\s*]+", _origin):
        raise ImproperlyConfigured(
            f"CORS_ALLOWED_ORIGINS is malformed: {_origin!r} is not an origin like https://app.example.com (or a lone *)"
        )
CORS_URLS_REGEX = r"^/api/(errors|[0-9]+/envelope)/?$"
CORS_ALLOW_METHODS = ["POST"]
CORS_ALLOW_HEADERS = ["content-type", "x-api-key", "x-sentry-auth"]
CORS_PREFLIGHT_MAX_AGE = 86400

# Sentry SDKs name a project by the number at the end of their DSN; this maps numbers to names.
SENTRY_PROJECTS = {}
for _entry in _read("SENTRY_PROJECTS", list, []):
    _number, _, _name = (part.strip() for part in _entry.partition("="))
    if not re.fullmatch(r"[0-9]{1,18}", _number) or not 0 < len(_name) <= 100:
        raise ImproperlyConfigured(
            f"SENTRY_PROJECTS is malformed: {_entry!r} is not like 1=my-app (a number, then a name of 1-100 characters)"
        )
    SENTRY_PROJECTS[str(int(_number))] = _name

FINGERPRINT_STRATEGY = _read("FINGERPRINT_STRATEGY", str, "line")
if FINGERPRINT_STRATEGY not in ("line", "function"):
    raise ImproperlyConfigured(f"FINGERPRINT_STRATEGY is malformed: {FINGERPRINT_STRATEGY!r} is not line or function")

LOG_LEVEL = _read("LOG_LEVEL", str, "info").lower()
_LOG_LEVELS = {"error": "ERROR", "warn": "WARNING", "warning": "WARNING", "info": "INFO", "debug": "DEBUG"}
if LOG_LEVEL not in _LOG_LEVELS:
    raise ImproperlyConfigured(f"LOG_LEVEL is malformed: {LOG_LEVEL!r} is not one of error, warn, info, debug")

RETENTION_FIRST_RUN_DELAY = _read("RETENTION_FIRST_RUN_DELAY", int, 300)

POSTMARK_API_TOKEN = _read("POSTMARK_API_TOKEN", str, "")
POSTMARK_FROM_EMAIL = _read("POSTMARK_FROM_EMAIL", str, "")
POSTMARK_API_URL = _read("POSTMARK_API_URL", str, "https://api.postmarkapp.com/")
ALERT_EMAILS = _read("ALERT_EMAILS", list, [])
ALERT_ENVIRONMENTS = _read("ALERT_ENVIRONMENTS", list, [])
ALERT_MAX_PER_HOUR = _read("ALERT_MAX_PER_HOUR", int, 30)
ALERT_RETRY_DELAY = _read("ALERT_RETRY_DELAY", float, 30.0)

ADMIN_USERNAME = _read("ADMIN_USERNAME", str, "")
ADMIN_PASSWORD = _read("ADMIN_PASSWORD", str, "")
ADMIN_EMAIL = _read("ADMIN_EMAIL", str, "")
if bool(ADMIN_USERNAME) != bool(ADMIN_PASSWORD):
    raise ImproperlyConfigured("ADMIN_USERNAME and ADMIN_PASSWORD must be set together")

# Behind https, cookies only travel encrypted, and CSRF accepts the public origin.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PUBLIC_URL.startswith("https://")
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL]

# --- storage -------------------------------------------------------------------------------

DATABASE_PATH = Path(_read("DATABASE_PATH", str, "./data/errors.db")).expanduser().resolve()
DATA_DIR = DATABASE_PATH.parent

if os.environ.get("DATABASE_URL"):
    try:
        DATABASES = {"default": env.db_url("DATABASE_URL")}
    except (ValueError, KeyError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from exc
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # An unreachable database answers 503 within seconds instead of hanging the request.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
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


SECRET_KEY = os.environ.get("SECRET_KEY") or _persistent_secret_key()

# The rate-limit counters. The default, one process's memory, is exact for the default single
# gunicorn process; several processes or instances need CACHE_URL=redis://… (errors/checks.py).
try:
    CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://error-tracker")}
except (ValueError, KeyError, ImproperlyConfigured) as exc:
    raise ImproperlyConfigured(f"CACHE_URL is malformed: {exc}") from exc
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "tracker.redis_cache.RedisCache"  # the same, cheaper per call
RATELIMIT_USE_CACHE = "default"
# django-ratelimit rejects per-process caches outright; errors.checks allows one when there is
# exactly one process, and Redis through Django's own backend is simply not on its list.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Django --------------------------------------------------------------------------------

INSTALLED_APPS = [
    "errors.apps.TrackerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_ratelimit",
    "corsheaders",
    "errors",
]

MIDDLEWARE = [
    # First, so that every answer to a browser's report, a 413 included, is readable by the page.
    "corsheaders.middleware.CorsMiddleware",
    "errors.limits.BodySizeLimitMiddleware",
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
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["errors.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["errors.auth.KeyAllowsRequest"],
    "DEFAULT_PARSER_CLASSES": ["errors.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "errors.negotiation.JSONOnlyNegotiation",
    "EXCEPTION_HANDLER": "errors.views.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _LOG_LEVELS[LOG_LEVEL]},
    "loggers": {
        # Client mistakes are answered with a 4xx JSON body; Django's own request warnings
        # would only repeat them.
        "django.request": {"level": "ERROR"},
    },
}
