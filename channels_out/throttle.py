"""Per-account pacing (S10): at most N messages a second, across every worker.

Each send takes the next free slot on the account's timeline ("virtual scheduling", as in
GCRA): slot = max(now, next_free); next_free = slot + 1/rate. The caller waits until its
slot; a ``Pacer`` takes a short block of consecutive slots at once at high rates. With Redis configured the timeline lives in Redis (one Lua script, Redis's own
clock), so all workers on all machines share it; on the embedded default it lives in the
process, which is all there is.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

import redis
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
        self._client = redis.Redis.from_url(url)
        self._script: Any = self._client.register_script(_SCRIPT)

    def take(self, key: str, interval: float) -> float:
        return float(self._script(keys=[key], args=[f"{interval:.6f}"]))


@cache
def _timeline(url: str) -> LocalTimeline | RedisTimeline:
    return RedisTimeline(url) if url else LocalTimeline()


def timeline() -> LocalTimeline | RedisTimeline:
    return _timeline(settings.REDIS_URL)


# A sender takes its slots from the shared timeline in blocks of at most this much time:
# at high rates one round trip to Redis covers many sends; at low rates a block is one slot.
BLOCK_SECONDS = 0.05


class Pacer:
    """The sends of one batch on one account, each in its own slot of the account's timeline.

    Slots are taken ``n`` at a time (``n`` = what fits in ``BLOCK_SECONDS`` at the account's
    rate, at most the sends still expected): one reservation of ``n`` consecutive slots on
    the shared timeline, then spaced locally. Together the workers still never exceed the
    rate; a block a batch does not use up is merely left empty.
    """

    def __init__(self, account_id: int, rate_per_second: Decimal | float, *, expected: int) -> None:
        self._key = f"crm:throttle:account:{account_id}"
        self._interval = 1.0 / float(rate_per_second)
        self._block = max(1, int(float(rate_per_second) * BLOCK_SECONDS))
        self._expected = max(1, expected)
        self._slots: deque[float] = deque()

    def wait(self, *, while_waiting: Callable[[float], object] | None = None) -> float:
        """Wait for the next send slot; return the seconds waited.

        ``while_waiting(seconds)`` is called first when there is a wait (the sender may
        write what it has pending instead of idling).
        """
        if not self._slots:
            n = min(self._block, self._expected)
            first = time.monotonic() + timeline().take(self._key, self._interval * n)
            self._slots.extend(first + i * self._interval for i in range(n))
        self._expected = max(1, self._expected - 1)
        slot = self._slots.popleft()
        wait = slot - time.monotonic()
        if wait > 0 and while_waiting is not None:
            while_waiting(wait)
        remaining = slot - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        return max(wait, 0.0)
