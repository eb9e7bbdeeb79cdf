"""Per-account pacing shared by all workers (S10)."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from channels_out import throttle
from channels_out.throttle import LocalTimeline, Pacer, RedisTimeline


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


class _CountingTimeline(LocalTimeline):
    def __init__(self) -> None:
        super().__init__()
        self.takes: list[float] = []

    def take(self, key: str, interval: float) -> float:
        self.takes.append(interval)
        return super().take(key, interval)


@pytest.fixture
def local_timeline(monkeypatch: pytest.MonkeyPatch) -> _CountingTimeline:
    shared = _CountingTimeline()
    monkeypatch.setattr(throttle, "timeline", lambda: shared)
    return shared


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits instead of waiting: the clock does not move while a pacer 'sleeps'."""
    waits: list[float] = []
    monkeypatch.setattr(throttle.time, "sleep", waits.append)
    return waits


def test_a_pacer_at_a_high_rate_takes_its_slots_in_blocks(local_timeline, slept) -> None:
    pacer = Pacer(7, 1000, expected=120)
    for _ in range(120):
        pacer.wait()
    # 50 slots fit in a 50 ms block at 1000/s: three reservations for 120 sends, not 120.
    assert local_timeline.takes == pytest.approx([0.05, 0.05, 0.02])
    # The whole batch occupies exactly 120 slots of the account's timeline.
    assert local_timeline.take("crm:throttle:account:7", 0.001) == pytest.approx(0.12, abs=0.01)


def test_a_pacer_at_a_low_rate_takes_one_slot_at_a_time_and_flushes_while_waiting(
    local_timeline, slept
) -> None:
    pacer = Pacer(8, 5, expected=3)
    flushes: list[int] = []
    waits = [pacer.wait(while_waiting=flushes.append) for _ in range(3)]
    assert local_timeline.takes == pytest.approx([0.2, 0.2, 0.2])
    assert waits[0] == 0 and waits[1] > 0.15
    assert flushes == pytest.approx(
        waits[1:], abs=0.01
    )  # told how long; the first send had no wait


def test_two_pacers_on_one_account_never_share_a_slot(local_timeline, slept) -> None:
    first, second = Pacer(9, 1000, expected=50), Pacer(9, 1000, expected=50)
    first.wait()
    # The second worker's first slot comes after the first worker's whole block.
    assert second.wait() == pytest.approx(0.05, abs=0.01)
