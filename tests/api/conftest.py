"""API test fixtures: keys with chosen scopes, clients that send them, reference data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from interfaces.api.models import ApiKey
from interfaces.api.scopes import Scope
from interfaces.api.services import api_key_create
from tests.factories import BoardTypeFactory, RoomTypeFactory

ALL_SCOPES = list(Scope.values)


@pytest.fixture(autouse=True)
def fresh_throttle_counts() -> Iterator[None]:
    """Each test starts with no requests counted against any key."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_client(db: None) -> Callable[..., tuple[APIClient, ApiKey]]:
    def make(scopes: list[str] | None = None, name: str = "Test PMS") -> tuple[APIClient, ApiKey]:
        key, raw = api_key_create(name=name, scopes=ALL_SCOPES if scopes is None else scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client, key

    return make


@pytest.fixture
def api(make_client: Callable[..., tuple[APIClient, ApiKey]]) -> APIClient:
    """A client whose key has every scope."""
    return make_client()[0]


@pytest.fixture
def reference(db: None) -> None:
    RoomTypeFactory()
    BoardTypeFactory()


def problem_of(response: Any) -> dict[str, Any]:
    """The problem-details body of an error answer (and that it is one)."""
    assert response["Content-Type"].startswith("application/problem+json"), response.content
    body = response.json()
    assert body["status"] == response.status_code
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    return body


def pointers(response: Any) -> set[str]:
    return {error["pointer"] for error in problem_of(response).get("errors", [])}
