"""Per-account pacing shared by all workers (S10)."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from channels_out.throttle import LocalTimeline, RedisTimeline


def _spacing(waits: list[float]) -> list[float]:
    """Gaps between consecutive slots (less the few microseconds between the calls)."""
    return [b - a for a, b in zip(waits, waits[1:], strict=False)]


def test_slots_are_spaced_by_one_over_the_rate() -> None:
    timeline = LocalTimeline()
    waits = [timeline.take("account:1", 0.1) for _ in range(5)]
    assert waits[0] == 0
    assert _spacing(waits) == pytest.approx([0.1] * 4, abs=0.02)


def test_accounts_do_not_share_a_timeline() -> None:
    timeline = LocalTimeline()
    timeline.take("account:1", 1.0)
    assert timeline.take("account:2", 1.0) == 0


@pytest.mark.redis
def test_two_workers_share_one_timeline_in_redis() -> None:
    key = f"crm:test:throttle:{uuid.uuid4().hex}"
    worker_a, worker_b = RedisTimeline(settings.REDIS_URL), RedisTimeline(settings.REDIS_URL)
    waits = [worker.take(key, 0.2) for worker in (worker_a, worker_b, worker_a, worker_b)]
    # Four sends at 5/s from two workers take four consecutive slots, not two each at once.
    assert waits[0] < 0.05
    assert _spacing(waits) == pytest.approx([0.2] * 3, abs=0.02)


@pytest.mark.redis
def test_an_idle_account_starts_without_waiting_in_redis() -> None:
    key = f"crm:test:throttle:{uuid.uuid4().hex}"
    timeline = RedisTimeline(settings.REDIS_URL)
    assert timeline.take(key, 0.001) < 0.05
