"""Django's Redis cache, made safe to lose and cheaper to call.

Two changes to Django's backend:

- One redis client per connection pool. Django's own backend builds a new
  `redis.Redis` object for every cache call; with redis-py 8 that costs more
  than the round trip itself (its event dispatcher and listeners are set up
  each time). Clients are thread-safe and share the pool, so one per pool is
  enough.
- The cache is never a reason for a page to fail. When Redis cannot be reached
  (connection refused, reset or timed out) every call degrades to what a cold
  cache would do, so callers fall back to the database: `get` returns the
  default, `get_many` an empty dict, `has_key` False, `set`, `delete`, `touch`,
  `clear` and the `*_many` writes do nothing, `incr` returns `delta` (`decr`, `-delta`) (as
  if counting from zero). `add` reports success, so a lock taken through the
  cache (allauth's rate limits) is granted: **rate limits fail open while the
  cache is down**, rather than refusing every sign-in. The first failure is
  logged once (a warning, then an info line when Redis answers again) and the
  backend stops trying for `CACHE_RETRY_AFTER_SECONDS` (a circuit breaker, the
  `RETRY_AFTER` option), so a page makes no more than one slow attempt per
  process in that time instead of waiting `socket_timeout` on every call.

Anything else (a bad value, a programming error) still raises. `ping()` raises
whatever Redis raised, for /healthz.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# What "Redis is unreachable" looks like from redis-py (its errors wrap the
# socket's), plus a bare socket error in case one escapes.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
DEFAULT_RETRY_AFTER_SECONDS = 5.0


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


class _Breaker:
    """Whether one Redis server is taken for down, shared by every thread of
    the process (Django builds one cache object per thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down = False
        self.until = 0.0

    def is_open(self) -> bool:
        return self.down and time.monotonic() < self.until

    def trip(self, exc: BaseException, retry_after: float) -> None:
        with self.lock:
            first = not self.down
            self.down = True
            self.until = time.monotonic() + retry_after
        if first:
            log.warning(
                "The cache (Redis) is unreachable (%s: %s); serving without it "
                "and trying again every %.0f s",
                exc.__class__.__name__,
                exc,
                retry_after,
            )

    def close(self) -> None:
        if self.down:
            with self.lock:
                if self.down:
                    self.down = False
                    log.info("The cache (Redis) answers again")


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(location: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker())


class ReusingRedisCache(RedisCache):
    """See the module docstring. OPTIONS may include `RETRY_AFTER` (seconds the
    backend stops trying after a failure); the rest go to redis-py."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(
            options.pop("RETRY_AFTER", DEFAULT_RETRY_AFTER_SECONDS)
        )
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusingRedisCacheClient
        self._breaker = _breaker_for(",".join(self._servers))

    def _call(self, method, fallback, *args, **kwargs):
        if self._breaker.is_open():
            return fallback
        try:
            result = method(*args, **kwargs)
        except UNREACHABLE as exc:
            self._breaker.trip(exc, self.retry_after)
            return fallback
        self._breaker.close()
        return result

    @property
    def is_available(self) -> bool:
        """False while the backend is not trying (after a recent failure)."""
        return not self._breaker.is_open()

    def reset_breaker(self) -> None:
        """Try Redis again on the next call (tests, or after a known recovery)."""
        self._breaker.until = 0.0

    def ping(self) -> None:
        """Ask Redis directly, bypassing the breaker; raises if it does not answer."""
        self._cache.get_client(write=True).ping()

    # -- Django's cache API -------------------------------------------------

    def get(self, key, default=None, version=None):
        return self._call(super().get, default, key, default, version)

    def get_many(self, keys, version=None):
        return self._call(super().get_many, {}, keys, version)

    def has_key(self, key, version=None):
        return self._call(super().has_key, False, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().add, True, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().set, None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().set_many, [], data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().touch, False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call(super().delete, False, key, version)

    def delete_many(self, keys, version=None):
        return self._call(super().delete_many, None, keys, version)

    def incr(self, key, delta=1, version=None):
        return self._call(super().incr, delta, key, delta, version)

    def clear(self):
        return self._call(super().clear, False)
