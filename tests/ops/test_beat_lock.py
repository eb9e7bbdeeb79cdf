"""One beat schedules; a second one stands by until the first lets go (or dies)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.signals import before_task_publish
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from crm_messaging.celery import app
from crm_messaging.ops import health
from crm_messaging.ops.beat import (
    LOCK_KEY,
    FileBeatLock,
    LockedDatabaseScheduler,
    RedisBeatLock,
)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(LOCK_KEY)
    yield client
    client.delete(LOCK_KEY)


@pytest.mark.redis
def test_a_second_redis_lock_waits_until_the_first_is_released(redis_client: redis.Redis) -> None:
    first, second = RedisBeatLock(settings.REDIS_URL), RedisBeatLock(settings.REDIS_URL)
    assert first.hold() is True
    assert second.hold() is False
    assert first.hold() is True  # renewed
    first.release()
    assert second.hold() is True
    assert first.hold() is False


@pytest.mark.redis
def test_a_lock_whose_holder_died_passes_to_the_standby(redis_client: redis.Redis) -> None:
    dead, standby = RedisBeatLock(settings.REDIS_URL), RedisBeatLock(settings.REDIS_URL)
    assert dead.hold() is True
    assert redis_client.pttl(LOCK_KEY) > 0  # it would expire by itself
    redis_client.delete(LOCK_KEY)  # … as it does when its holder stops renewing it
    assert standby.hold() is True
    assert dead.hold() is False  # a holder that comes back finds it taken


def test_the_file_lock_admits_one_holder(tmp_path: Path) -> None:
    first, second = FileBeatLock(tmp_path / "beat.lock"), FileBeatLock(tmp_path / "beat.lock")
    assert first.hold() is True
    assert second.hold() is False
    first.release()
    assert second.hold() is True


@pytest.fixture
def published() -> Iterator[list[str]]:
    """Tasks beat publishes, recorded as they go to the real broker (not run here)."""
    names: list[str] = []

    def record(sender: Any = None, headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        names.append((headers or {}).get("task", sender))

    before_task_publish.connect(record, weak=False)
    app.conf.task_always_eager = False
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    try:
        yield names
    finally:
        app.conf.task_always_eager = True
        before_task_publish.disconnect(record)
        broker.flushdb()


@pytest.mark.redis
# django-celery-beat commits and closes connections between ticks, as a real beat does.
@pytest.mark.django_db(transaction=True)
def test_a_second_beat_does_not_schedule(redis_client: redis.Redis, published: list[str]) -> None:
    PeriodicTask.objects.all().delete()
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.create(
        name="probe",
        task="ops.heartbeat",
        interval=every_second,
        last_run_at=timezone.now() - dt.timedelta(minutes=5),
    )
    cache.delete(health.HEARTBEAT_KEY.format(health.BEAT))
    first = LockedDatabaseScheduler(app=app)
    second = LockedDatabaseScheduler(app=app)
    try:
        first.tick()
        assert published.count("ops.heartbeat") == 1
        assert health.heartbeat_read(health.BEAT) is not None  # the holder reports
        PeriodicTask.objects.filter(name="probe").update(
            last_run_at=timezone.now() - dt.timedelta(minutes=5)
        )
        second.tick()
        second.tick()
        assert published.count("ops.heartbeat") == 1  # the standby sent nothing

        first.close()  # the first beat stops and lets the lock go
        second.tick()
        assert published.count("ops.heartbeat") == 2  # the standby took over
    finally:
        first.close()
        second.close()
