"""Per-account pacing (S10): at most N messages a second, across every worker.

Each send takes the next free slot on the account's timeline ("virtual scheduling", as in
GCRA): slot = max(now, next_free); next_free = slot + 1/rate. The caller waits until its
slot. With Redis configured the timeline lives in Redis (one Lua script, Redis's own
clock), so all workers on all machines share it; on the embedded default it lives in the
process, which is all there is.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings

_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, next_free)
local later = slot + interval
redis.call('SET', KEYS[1], string.format('%.6f', later), 'PX', math.ceil((later - now) * 1000) + 1000)
return string.format('%.6f', slot - now)
"""


class LocalTimeline:
    """The in-process timeline for the embedded default (one process, threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def take(self, key: str, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(key, 0.0))
            self._next[key] = slot + interval
            return slot - now


class RedisTimeline:
    """The shared timeline in Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._script: Any = self._client.register_script(_SCRIPT)

    def take(self, key: str, interval: float) -> float:
        return float(self._script(keys=[key], args=[f"{interval:.6f}"]))


@cache
def _timeline(url: str) -> LocalTimeline | RedisTimeline:
    return RedisTimeline(url) if url else LocalTimeline()


def timeline() -> LocalTimeline | RedisTimeline:
    return _timeline(settings.REDIS_URL)


def throttle_wait(account_id: int, rate_per_second: Decimal | float) -> float:
    """Take the account's next send slot and return how many seconds to wait for it."""
    interval = 1.0 / float(rate_per_second)
    return timeline().take(f"crm:throttle:account:{account_id}", interval)


def throttle(account_id: int, rate_per_second: Decimal | float) -> float:
    """Wait for the account's next send slot; return the seconds waited."""
    wait = throttle_wait(account_id, rate_per_second)
    if wait > 0:
        time.sleep(wait)
    return wait
