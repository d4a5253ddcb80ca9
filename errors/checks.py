"""System checks: settings that are valid alone but wrong together, found before serving."""

import re

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = {"django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"}


@checks.register(checks.Tags.caches)
def rate_limit_cache_is_shared(app_configs, **kwargs):
    """Several server processes counting in their own memory would let N times the limit through."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.WORKERS > 1 and backend in PER_PROCESS_CACHES:
        return [
            checks.Error(
                f"WORKERS={settings.WORKERS} with a per-process cache makes the rate limit per process",
                hint="Set CACHE_URL=redis://… so every process shares one counter, or WORKERS=1.",
                id="errors.E001",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def browsers_have_an_ingest_key(app_configs, **kwargs):
    """Pages allowed to post reports would otherwise carry API_KEY, which also reads and resolves."""
    if (settings.CORS_ALLOWED_ORIGINS or settings.CORS_ALLOW_ALL_ORIGINS) and not settings.INGEST_API_KEYS:
        return [
            checks.Warning(
                "CORS_ALLOWED_ORIGINS is set but INGEST_API_KEYS is not: web pages could only report with API_KEY, "
                "which anyone reading the page could then use to read and resolve errors",
                hint="Set INGEST_API_KEYS and give pages one of those keys.",
                id="errors.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def ingest_keys_fit_a_dsn(app_configs, **kwargs):
    """Sentry's JavaScript SDK refuses a DSN whose key is not made of letters, digits and `_`."""
    return [
        checks.Warning(
            f"INGEST_API_KEYS entry {n + 1} has characters other than letters, digits and _: "
            "Sentry's JavaScript SDK will refuse a DSN with it (\"Invalid Sentry Dsn\")",
            hint='Use hex keys, e.g. python3 -c "import secrets; print(secrets.token_hex(16))".',
            id="errors.W002",
        )
        for n, key in enumerate(settings.INGEST_API_KEYS)
        if not re.fullmatch(r"\w+", key, re.ASCII)
    ]
