"""Throttling per API key, counted in the shared cache (Redis)."""

from __future__ import annotations

import pytest

from interfaces.api.throttling import ApiKeyRateThrottle

from .conftest import problem_of

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


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
