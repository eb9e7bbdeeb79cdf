"""Requests per API key (``API_THROTTLE_RATE``, e.g. ``600/min``), counted in the shared cache.

A fixed window: each key has one counter per window (the minute, at ``600/min``) and a request
passes while its count is within the rate. With Redis (production) the counter is made with
``cache.add`` and raised with ``cache.incr`` — Redis's atomic INCR — so requests at the same
moment in any number of web processes are each counted once, and exactly the rate passes in a
window. Django's file cache (the embedded default) has no atomic increment (its ``incr`` reads
and writes the file), so there the count is read and written under an exclusive ``flock`` on
``var/throttle.lock``: exact too, on the one machine the embedded default runs on. A refused
request is told in ``Retry-After`` the seconds left until the window ends.
"""

from __future__ import annotations

import fcntl
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey


@contextmanager
def _file_lock() -> Iterator[None]:
    path = Path(settings.VAR_DIR) / "throttle.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the file closes
        yield


def _count(cache: BaseCache, key: str, timeout: int) -> int:
    """Count one more request under ``key``; return the count, this one included."""
    if isinstance(cache, RedisCache):
        cache.add(key, 0, timeout)
        try:
            return int(cache.incr(key))
        except ValueError:  # the counter went (evicted) between the two calls
            cache.add(key, 1, timeout)
            return 1
    with _file_lock():
        count = int(cache.get(key, 0)) + 1
        cache.set(key, count, timeout)
        return count


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = request.auth
        if isinstance(key, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": key.pk}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        # The counter outlives its window by a little, for a clock a second behind.
        count = _count(caches["default"], f"{ident}_{window}", self.duration + 5)
        return count <= self.num_requests

    def wait(self) -> float:
        """Seconds until the window ends (Retry-After), at least 1."""
        return max(1, math.ceil(self.window_ends - self.now))
