"""Schemathesis against the live schema (/api/v1/schema/): every operation, generated valid
and invalid requests with a key holding every scope; no answer is a 500 and every answer
matches the schema (status code, content type, headers, body), and input the schema calls
invalid is refused. Left out: "a schema-valid request is accepted" — a request can be
well-formed and still name a guest, a room type or a move that does not exist (a 400 or
409 with the reason is the right answer)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from crm_messaging.wsgi import application
from interfaces.api.scopes import Scope
from interfaces.api.services import api_key_create
from interfaces.api.throttling import ApiKeyRateThrottle
from tests.factories import BoardTypeFactory, FacilityFactory, RoomTypeFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@pytest.fixture
def bearer(
    django_db_blocker: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "100000/min"})
    cache.clear()
    RoomTypeFactory()
    BoardTypeFactory()
    FacilityFactory()
    _, raw = api_key_create(name="Schemathesis", scopes=list(Scope.values))
    yield {"Authorization": f"Bearer {raw}"}


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_its_schema_says(case, bearer: dict[str, str]) -> None:
    case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])
