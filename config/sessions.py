"""Sessions in the database, read through the cache (Django's `cached_db`),
with the cached copy kept for at most `SESSION_CACHE_SECONDS`.

Django caches a session for as long as the session lasts (two weeks). A
sign-out, or a session ended by staff timeouts, while Redis is unreachable
deletes the database row but not the cached copy (the cache ignores the
failure: config/cache.py), so when Redis answered again that copy would be
served: the session would come back. Cached for at most a few minutes, such
a copy expires by itself soon after (Redis counts expiry down whether or not
anyone can reach it), at the price of one session query per person every
few minutes. The database stays the record; the cookie's lifetime is
unchanged.
"""

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore


class _ShortLived:
    """The session cache, with every write's timeout capped."""

    def __init__(self, cache, seconds: int):
        self._cache = cache
        self._seconds = seconds

    def _capped(self, timeout):
        return self._seconds if timeout is None else min(timeout, self._seconds)

    def set(self, key, value, timeout=None, version=None):
        return self._cache.set(key, value, self._capped(timeout), version=version)

    async def aset(self, key, value, timeout=None, version=None):
        return await self._cache.aset(
            key, value, self._capped(timeout), version=version
        )

    def __contains__(self, key):
        return key in self._cache

    def __getattr__(self, name):
        return getattr(self._cache, name)

    def __str__(self):
        return str(self._cache)


class SessionStore(CachedDbStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _ShortLived(self._cache, settings.SESSION_CACHE_SECONDS)
