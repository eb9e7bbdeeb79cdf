"""A guest's Viber answer (Vonage Messages API v1 inbound webhook, signed) reaches the inbox (issue 14)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels_out.models import ChannelAccount, InboundMessage
from interfaces.inbox.models import Conversation
from tests.fakes.vonage_messages import signed_webhook

pytestmark = pytest.mark.django_db

API_KEY = "abcd1234"
SIG_SECRET = "vonage-signature-secret-0123456789abcdef"


@pytest.fixture
def viber(db) -> ChannelAccount:
    return ChannelAccount.objects.create(
        channel="viber",
        backend="vonage_viber",
        name="Vonage Viber",
        sender="16273",
        account_id=API_KEY,
        secret="api-secret",
        webhook_secret=SIG_SECRET,
    )


def inbound(uuid: str, text: str) -> dict[str, str]:
    return {
        "channel": "viber_service",
        "message_uuid": uuid,
        "to": "16273",
        "from": "905321234567",
        "timestamp": "2026-12-04T09:15:00Z",
        "message_type": "text",
        "text": text,
    }


def test_a_signed_viber_answer_opens_the_guests_conversation(client, viber, guest) -> None:
    url = reverse("channels_out:inbound-webhook", kwargs={"account_id": viber.pk})
    headers, body = signed_webhook(inbound("aaaa-1", "Is the pool heated?"), SIG_SECRET, API_KEY)

    for _ in range(2):  # Vonage retries: one message
        answer = client.post(url, data=body, content_type="application/json", headers=headers)
        assert answer.status_code in (200, 204)

    message = InboundMessage.objects.get()
    assert (message.channel, message.from_number, message.guest) == ("viber", guest.phone, guest)
    assert message.sent_at.isoformat() == "2026-12-04T09:15:00+00:00"
    assert Conversation.objects.get().channel == "viber"


def test_an_unsigned_viber_answer_is_refused(client, viber, guest) -> None:
    url = reverse("channels_out:inbound-webhook", kwargs={"account_id": viber.pk})
    answer = client.post(url, data=inbound("aaaa-2", "Hi"), content_type="application/json")
    assert answer.status_code == 403
    assert not InboundMessage.objects.exists()
