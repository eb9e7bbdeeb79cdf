"""Throttling per API key, counted in the shared cache (Redis; a locked file cache on the
embedded default)."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from interfaces.api.throttling import ApiKeyRateThrottle

from .conftest import problem_of

# A moment 30 s into a minute: the tests fix the throttle's clock, so a window never ends
# in the middle of one.
MID_MINUTE = 1_800_000_030.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [MID_MINUTE]
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", staticmethod(lambda: now[0]))
    return now


@pytest.mark.redis
@pytest.mark.django_db
def test_a_key_past_its_rate_gets_429_and_another_key_does_not(
    make_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/min"})
    busy, _ = make_client(name="Busy")
    calm, _ = make_client(name="Calm")

    answers = [
        busy.put("/api/v1/guests/mews:G1", {"first_name": "A"}, format="json") for _ in range(4)
    ]
    other = calm.put("/api/v1/guests/mews:G2", {"first_name": "B"}, format="json")

    assert [a.status_code for a in answers] == [201, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    problem_of(answers[-1])
    assert other.status_code == 201


def _hammer(client: Any, *, threads: int, each: int) -> list[Any]:
    """``threads`` threads at once, ``each`` requests apiece, all with ``client``'s key."""
    start = threading.Barrier(threads)
    answers: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            start.wait()
            mine = [client.get("/api/v1/credits") for _ in range(each)]
            with lock:
                answers.extend(mine)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(answers) == threads * each
    return answers


def _exactly_the_rate_passes(make_client: Any, clock: list[float]) -> None:
    client, _ = make_client(scopes=["messages:read"])
    answers = _hammer(client, threads=16, each=10)

    assert Counter(a.status_code for a in answers) == {200: 40, 429: 120}
    refused = [a for a in answers if a.status_code == 429]
    assert {a["Retry-After"] for a in refused} == {"30"}  # the seconds to the minute's end
    assert problem_of(refused[0])["type"].endswith("/too-many-requests")

    clock[0] += 30  # the next minute: the same key has the rate again, and no more
    assert Counter(a.status_code for a in _hammer(client, threads=8, each=6)) == {200: 40, 429: 8}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_pass_exactly_the_rate_in_redis(
    make_client, monkeypatch: pytest.MonkeyPatch, clock: list[float]
) -> None:
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "40/min"})
    _exactly_the_rate_passes(make_client, clock)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_pass_exactly_the_rate_on_the_file_cache(
    make_client, monkeypatch: pytest.MonkeyPatch, clock: list[float], tmp_path: Path
) -> None:
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "40/min"})
    file_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    with override_settings(CACHES=file_cache, VAR_DIR=tmp_path):
        _exactly_the_rate_passes(make_client, clock)
