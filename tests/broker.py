"""The Celery broker as it really behaves: unreachable, or the test Redis with a worker.

Tests run tasks eagerly (``celery_runs_inline``); these context managers switch the project's
Celery app to really publishing, either to a closed local port (a broker outage: the
connection is refused, the publish retries give up quickly) or to ``CELERY_BROKER_URL`` with
an embedded worker thread consuming from it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from kombu import pools

from crm_messaging.celery import app


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def _reset_pools() -> None:
    """Forget the connections made for the previous broker URL."""
    pools.reset()  # closes kombu's pools (they are cached per broker URL) and forgets them
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def _publishing(broker_url: str) -> Iterator[None]:
    conf = app.conf
    saved = {
        name: conf.get(name)
        for name in (
            "task_always_eager",
            "broker_read_url",
            "broker_write_url",
            "task_publish_retry_policy",
            "broker_connection_timeout",
            "worker_hijack_root_logger",
        )
    }
    conf.task_always_eager = False
    # The read and write URLs win over broker_url, which CELERY_BROKER_URL in the environment fixes.
    conf.broker_read_url = conf.broker_write_url = broker_url
    conf.task_publish_retry_policy = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.1,
    }
    conf.broker_connection_timeout = 1
    conf.worker_hijack_root_logger = False
    _reset_pools()
    try:
        yield
    finally:
        _reset_pools()
        for name, value in saved.items():
            conf[name] = value


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Tasks are published to a port where no broker listens (Redis is down)."""
    with _publishing(f"redis://127.0.0.1:{_closed_port()}/0"):
        yield


@contextmanager
def broker_running() -> Iterator[None]:
    """Tasks are published to the test Redis (``CELERY_BROKER_URL``), emptied first."""
    with _publishing(settings.CELERY_BROKER_URL):
        app.control.purge()
        yield


@contextmanager
def worker() -> Iterator[None]:
    """An embedded worker thread consuming from the broker of ``broker_running``."""
    from celery.contrib.testing.worker import start_worker

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


def wait_until(condition: Callable[[], bool], *, seconds: float = 30) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; return whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
