"""System checks: settings that are valid alone but wrong together, found before serving."""

from django.conf import settings
from django.core import checks

# The dummy cache, which counts nothing, is refused outright by tracker/settings.py.
PER_PROCESS_CACHES = {"django.core.cache.backends.locmem.LocMemCache"}


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
