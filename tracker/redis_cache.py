"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call, and redis-py fills a
table of about 170 response callbacks in each constructor: for the rate limit's two calls per
request that cost more CPU than the rest of a dry-run report (bench/README.md). A `redis.Redis`
is safe to share between threads (each command borrows a connection from the pool), so one is
kept per pool.

`incr` also becomes one atomic round trip instead of EXISTS then INCRBY, which could recreate
a counter that expired in between, without its expiry.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.utils.functional import cached_property

_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # id(pool) -> the one redis.Redis on that pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client

    @cached_property
    def _incr_existing(self):
        # A Script only remembers its SHA; each call names the client that runs it.
        return self.get_client(write=True).register_script(_INCR_EXISTING)

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        value = self._incr_existing(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
