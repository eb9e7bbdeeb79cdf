from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from django.urls import reverse

from guests.models import BoardType, RoomType
from interfaces.mews.models import MewsConnection
from tests.fakes.mews_api import FakeMews, running_fake_mews

CLIENT_TOKEN = "E0D439EE522F44368DC78E1BFB03710C-D24FB11DBE31D4621C4817E028D9E1D"
ACCESS_TOKEN = "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D"
ENTERPRISE_ID = str(uuid.UUID(int=7))
TOKEN = "webhook-token-for-the-tests-0123456789"


@pytest.fixture
def fake_mews() -> Iterator[FakeMews]:
    with running_fake_mews(
        client_token=CLIENT_TOKEN, access_token=ACCESS_TOKEN, enterprise_id=ENTERPRISE_ID
    ) as fake:
        yield fake


@pytest.fixture
def connection(fake_mews, reference_data, hotel) -> MewsConnection:
    return MewsConnection.objects.create(
        name="Lykia Bay",
        platform_url=fake_mews.base_url,
        enterprise_id=ENTERPRISE_ID,
        client_token=CLIENT_TOKEN,
        access_token=ACCESS_TOKEN,
        webhook_token=TOKEN,
        room_type=RoomType.objects.first(),
        board_type=BoardType.objects.first(),
    )


@pytest.fixture
def webhook(client, fake_mews, django_capture_on_commit_callbacks):
    def post(*events: tuple[str, str], token: str = TOKEN) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"{reverse('mews:webhook')}?token={token}",
                json.dumps(fake_mews.webhook_body(*events)),
                content_type="application/json",
            )
        return response.status_code

    return post
