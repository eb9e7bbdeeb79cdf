"""One beat at a time: the schedule lock, and beat's own heartbeat.

Two beat processes would each enqueue every periodic task (sends stay duplicate-safe, but
it is wasted work and the minute tick would race itself). ``LockedDatabaseScheduler`` is
django-celery-beat's database scheduler that schedules only while it holds a lock:

- with Redis (``REDIS_URL``), a Redis lock with a time-to-live, renewed on every tick, so
  the lock works across machines and a beat that dies (even by SIGKILL) hands over to a
  standby beat within ``LOCK_TTL_SECONDS``;
- on the embedded default, an exclusive ``flock`` on ``var/beat.lock`` (one machine).

A beat without the lock stands by: it ticks every ``STANDBY_SECONDS`` and takes over when
the lock is free. The beat that holds it records a heartbeat for the readiness check.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any, Protocol

import redis
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler
from redis.exceptions import LockError, RedisError

from .health import BEAT, heartbeat_record

logger = logging.getLogger(__name__)

LOCK_KEY = "crm:beat:lock"
LOCK_TTL_SECONDS = 30.0
# The holder ticks at least this often, renewing the lock well within its time-to-live.
RENEW_SECONDS = 5.0
STANDBY_SECONDS = 5.0


class BeatLock(Protocol):
    def hold(self) -> bool:
        """Take the lock or renew it; return whether this process holds it now."""

    def release(self) -> None:
        """Let the lock go (a standby beat may take it)."""


class RedisBeatLock:
    """A Redis lock with a time-to-live (redis-py's ``Lock``), renewed while held."""

    def __init__(self, url: str, *, ttl: float = LOCK_TTL_SECONDS) -> None:
        self._lock = redis.Redis.from_url(url).lock(
            LOCK_KEY, timeout=ttl, blocking=False, thread_local=False
        )
        self._held = False

    def hold(self) -> bool:
        try:
            if self._held:
                try:
                    self._lock.reacquire()
                    return True
                except LockError:
                    # It expired and another beat took it: that one schedules now.
                    self._held = False
            self._held = bool(self._lock.acquire(blocking=False))
        except RedisError:
            logger.warning("The beat lock cannot be reached in Redis; not scheduling meanwhile")
            self._held = False
        return self._held

    def release(self) -> None:
        if self._held:
            self._held = False
            with contextlib.suppress(LockError, RedisError):
                self._lock.release()


class FileBeatLock:
    """An exclusive ``flock`` on a file, held for as long as the file stays open."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    def hold(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self._path, "a")  # noqa: SIM115 - kept open while the lock is held
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def beat_lock() -> BeatLock:
    """The lock for this deployment: Redis when configured, else a file under var/."""
    if settings.REDIS_URL:
        return RedisBeatLock(settings.REDIS_URL)
    return FileBeatLock(Path(settings.VAR_DIR) / "beat.lock")


class LockedDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's scheduler, scheduling only while it holds the beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.beat_lock = beat_lock()
        self._standing_by = False
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.beat_lock.hold():
            if not self._standing_by:
                logger.warning("Another beat holds the schedule lock; this one stands by")
            self._standing_by = True
            return STANDBY_SECONDS
        if self._standing_by:
            logger.warning("This beat took the schedule lock over and schedules now")
            self._standing_by = False
        try:
            heartbeat_record(BEAT)
        except Exception:
            logger.exception("Beat could not record its heartbeat")
        return min(super().tick(*args, **kwargs), RENEW_SECONDS)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.beat_lock.release()
