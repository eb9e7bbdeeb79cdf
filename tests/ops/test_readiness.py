"""Liveness and readiness: /healthz answers while the process lives; /readyz names what is down."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connections
from django.test import Client, override_settings

from crm_messaging.celery import app
from crm_messaging.ops import health
from crm_messaging.ops.tasks import heartbeat

pytestmark = pytest.mark.django_db

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def no_heartbeats() -> Iterator[None]:
    for kind in (health.WORKER, health.BEAT):
        cache.delete(health.HEARTBEAT_KEY.format(kind))
    yield
    for kind in (health.WORKER, health.BEAT):
        cache.delete(health.HEARTBEAT_KEY.format(kind))


@pytest.fixture
def everyone_reported() -> None:
    heartbeat()  # what a worker runs every 30 s
    health.heartbeat_record(health.BEAT)


def _ready(client: Client) -> tuple[int, dict]:
    answer = client.get("/readyz")
    return answer.status_code, json.loads(answer.content)


def test_liveness_answers_ok(client: Client) -> None:
    answer = client.get("/healthz")
    assert (answer.status_code, answer.content) == (200, b"ok")


def test_ready_when_database_cache_broker_a_worker_and_beat_are_up(
    client: Client, everyone_reported: None
) -> None:
    status, body = _ready(client)
    assert status == 200
    assert body["status"] == "ready" and body["down"] == []
    assert set(body["checks"]) == {"database", "cache", "broker", "worker", "beat"}
    assert body["checks"]["worker"]["last_seen_seconds_ago"] < 60
    assert socket.gethostname() not in json.dumps(body)  # anyone may ask: no machine names


def test_no_worker_and_no_beat_yet_is_not_ready(client: Client) -> None:
    status, body = _ready(client)
    assert status == 503
    assert body["down"] == ["worker", "beat"]
    assert body["checks"]["worker"]["error"] == "no worker has reported yet"


def test_a_worker_silent_for_longer_than_allowed_is_down(
    client: Client, everyone_reported: None, settings
) -> None:
    stale = {"at": time.time() - settings.READINESS_HEARTBEAT_MAX_AGE - 5, "host": "w1", "pid": 1}
    cache.set(health.HEARTBEAT_KEY.format(health.WORKER), stale)
    status, body = _ready(client)
    assert status == 503
    assert body["down"] == ["worker"]
    assert "no worker has reported for" in body["checks"]["worker"]["error"]


def test_a_database_that_cannot_be_reached_is_named(
    client: Client, everyone_reported: None, monkeypatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    status, body = _ready(client)
    assert status == 503
    assert body["down"] == ["database"]
    # The kind of error only: a message could name hosts and users.
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_a_cache_that_cannot_be_reached_is_named(client: Client, everyone_reported: None) -> None:
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
        }
    }
    with override_settings(CACHES=unreachable):
        status, body = _ready(client)
    assert status == 503
    # Without the cache nobody's heartbeat can be read either.
    assert body["down"] == ["cache", "worker", "beat"]
    assert body["checks"]["cache"]["ok"] is False


def test_a_broker_that_cannot_be_reached_is_named(
    client: Client, everyone_reported: None, monkeypatch
) -> None:
    # Celery reads the broker it publishes to from this variable before its settings.
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", CLOSED_PORT_REDIS)
    assert app.conf.broker_write_url == CLOSED_PORT_REDIS
    status, body = _ready(client)
    assert status == 503
    assert body["down"] == ["broker"]


def test_the_readiness_command_exits_1_when_something_is_down(capsys) -> None:
    health.heartbeat_record(health.BEAT)
    call_command("readiness", only=["beat"])
    assert json.loads(capsys.readouterr().out)["status"] == "ready"
    with pytest.raises(SystemExit) as exit_:
        call_command("readiness", only=["worker"])
    assert exit_.value.code == 1
