"""Django's Redis cache, keeping one redis client per connection pool.

Django's own backend builds a new `redis.Redis` object for every cache call;
with redis-py 8 that costs more than the round trip itself (its event
dispatcher and listeners are set up each time). Clients are thread-safe and
share the pool, so one per pool is enough."""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
