"""The Mews webhook endpoint authenticates as Mews documents (a shared token in the URL) and
answers bad input with a 4xx, never a 500; nothing is stored for a refused request (I4)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from interfaces.mews.models import MewsConnection, MewsWebhook
from interfaces.monitoring.metrics import event_registry

from .conftest import ENTERPRISE_ID

pytestmark = pytest.mark.django_db

URL = reverse("mews:webhook")
TOKEN = "s3cret-webhook-token-0123456789"


@pytest.fixture
def connection(reference_data) -> MewsConnection:
    from guests.models import BoardType, RoomType

    return MewsConnection.objects.create(
        name="Lykia Bay",
        enterprise_id=ENTERPRISE_ID,
        client_token="c",
        access_token="a",
        webhook_token=TOKEN,
        room_type=RoomType.objects.first(),
        board_type=BoardType.objects.first(),
    )


def body(**overrides) -> bytes:
    message = {"EnterpriseId": ENTERPRISE_ID, "IntegrationId": "x", "Events": [], **overrides}
    return json.dumps(message).encode()


@pytest.mark.parametrize(
    ("token", "data", "status"),
    [
        ("", body(), 403),
        ("wrong", body(), 403),
        (TOKEN, body(EnterpriseId="00000000-0000-0000-0000-000000000001"), 403),
        (TOKEN, b"{not json", 400),
        (TOKEN, b"\xff\xfe", 400),
        (TOKEN, b"[]", 400),
        (TOKEN, b"null", 400),
        (TOKEN, body(Events="nope"), 400),
        (TOKEN, body(EnterpriseId=7), 400),
        (TOKEN, json.dumps({"Events": []}).encode(), 400),
    ],
)
def test_a_bad_request_is_refused_and_nothing_is_stored(
    client, connection, token, data, status
) -> None:
    before = refusals_counted()
    response = client.post(f"{URL}?token={token}", data, content_type="application/json")
    assert response.status_code == status
    assert not MewsWebhook.objects.exists()
    # A refusal (403) is counted with the provider hooks' (README: alert on it); a 400 is not.
    assert refusals_counted() == before + (1 if status == 403 else 0)


def refusals_counted() -> float:
    registry = event_registry()
    return registry.get_sample_value("crm_webhook_rejections_total", {"kind": "mews"}) or 0.0


def test_a_switched_off_connection_takes_no_webhooks(client, connection) -> None:
    MewsConnection.objects.filter(pk=connection.pk).update(is_active=False)
    response = client.post(f"{URL}?token={TOKEN}", body(), content_type="application/json")
    assert response.status_code == 403


def test_only_post_is_allowed(client, connection) -> None:
    assert client.get(f"{URL}?token={TOKEN}").status_code == 405


def test_a_nul_in_a_signed_webhook_is_dropped_and_the_message_stored_once(
    client, connection
) -> None:
    event = {"Discriminator": "ServiceOrderUpdated", "Value": {"Id": "a\u0000b\ud800"}}
    data = body(Events=[event])
    assert b"\\u0000" in data
    response = Client(raise_request_exception=False).post(
        f"{URL}?token={TOKEN}", data, content_type="application/json"
    )
    assert response.status_code == 202
    [webhook] = MewsWebhook.objects.all()
    assert webhook.payload["Events"] == [
        {"Discriminator": "ServiceOrderUpdated", "Value": {"Id": "ab\ufffd"}}
    ]


def test_a_nul_in_the_property_of_an_unsigned_webhook_is_refused(client, connection) -> None:
    data = body(EnterpriseId="a\u0000b")
    response = Client(raise_request_exception=False).post(
        f"{URL}?token=wrong", data, content_type="application/json"
    )
    assert response.status_code == 403
    assert not MewsWebhook.objects.exists()
