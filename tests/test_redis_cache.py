"""tracker/redis_cache: Django's Redis cache with a shared client and a one-trip incr, on the real Redis."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.conftest import REPO, clean_env
from tracker.redis_cache import RedisCache


@pytest.fixture
def cache(redis_url):
    return RedisCache(redis_url, {})


def test_a_redis_cache_url_selects_this_backend(tmp_path, redis_url):
    show = "import django; django.setup(); from django.core.cache import caches; print(type(caches[\"default\"]).__module__)"
    env = clean_env(DJANGO_SETTINGS_MODULE="tracker.settings", API_KEY="k", DATABASE_PATH=str(tmp_path / "e.db"), CACHE_URL=redis_url)

    result = subprocess.run([sys.executable, "-c", show], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)

    assert result.stdout.strip() == "tracker.redis_cache", result.stderr


def test_incr_counts_an_existing_key_and_keeps_its_expiry(cache, redis_url):
    assert cache.add("counter", 1, 60)
    assert cache.incr("counter") == 2
    assert cache.incr("counter", 5) == 7

    assert cache.get("counter") == 7
    raw_key = cache.make_key("counter")
    assert 0 < redis.Redis.from_url(redis_url).ttl(raw_key) <= 60


def test_incr_of_a_missing_key_raises_and_creates_nothing(cache):
    with pytest.raises(ValueError):
        cache.incr("missing")

    assert cache.get("missing") is None


def test_concurrent_increments_from_threads_are_all_counted(cache):
    cache.add("shared", 0, 60)

    def bump(_):
        for _ in range(100):
            cache.incr("shared")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(8)))

    assert cache.get("shared") == 800


def test_the_cache_reuses_one_client_for_its_connection_pool(cache):
    """Django's own client builds a redis.Redis per call; the point of this backend is not to."""
    cache.set("k", "v")

    assert cache._cache.get_client("k", write=True) is cache._cache.get_client("k", write=True)
    assert cache._cache.get_client("k") is cache._cache.get_client("k", write=True)
