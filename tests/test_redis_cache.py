"""The rate limit's shared counters on Redis (django-redis), on the real Redis and a silent one."""

import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django_redis.cache import RedisCache

from tests.conftest import REPO, RunningTracker, clean_env
from tests.factories import report


@pytest.fixture
def cache(redis_url):
    return RedisCache(redis_url, {"OPTIONS": {"SOCKET_TIMEOUT": 1, "SOCKET_CONNECT_TIMEOUT": 1}})


def test_a_redis_cache_url_selects_django_redis_with_timeouts(tmp_path, redis_url):
    show = (
        "import django; django.setup(); from django.conf import settings; c = settings.CACHES['default']; "
        "print(c['BACKEND'], c['OPTIONS']['SOCKET_TIMEOUT'], c['OPTIONS']['SOCKET_CONNECT_TIMEOUT'])"
    )
    env = clean_env(DJANGO_SETTINGS_MODULE="tracker.settings", API_KEY="k", DATABASE_PATH=str(tmp_path / "e.db"), CACHE_URL=redis_url)

    result = subprocess.run([sys.executable, "-c", show], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)

    assert result.stdout.strip() == "django_redis.cache.RedisCache 1 1", result.stderr


def test_incr_counts_an_existing_key_and_keeps_its_expiry(cache, redis_url):
    import redis

    assert cache.add("counter", 1, 60)
    assert cache.incr("counter") == 2
    assert cache.incr("counter", 5) == 7

    assert cache.get("counter") == 7
    assert 0 < redis.Redis.from_url(redis_url).ttl(cache.make_key("counter")) <= 60


def test_concurrent_increments_from_threads_are_all_counted(cache):
    cache.add("shared", 0, 60)

    def bump(_):
        for _ in range(100):
            cache.incr("shared")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(8)))

    assert cache.get("shared") == 800


@pytest.fixture
def silent_redis():
    """A port that accepts connections and never answers, like a Redis behind a partition."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


@pytest.mark.server
def test_a_redis_that_stops_answering_does_not_hang_reports(tmp_path, silent_redis):
    server = RunningTracker(tmp_path, {"CACHE_URL": silent_redis, "RATE_LIMIT": "100/m"}).start()
    try:
        started = time.monotonic()
        response = server.session().post(f"{server.url}/api/errors", json=report(), timeout=10)
        elapsed = time.monotonic() - started
    finally:
        server.stop()

    assert response.status_code == 201
    assert elapsed < 3.5
    assert "rate limit skipped, cache unreachable" in server.log.read_text()
