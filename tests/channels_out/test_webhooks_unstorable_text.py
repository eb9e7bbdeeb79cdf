"""Signed provider webhooks carrying text the database cannot store, or a sender too long for
the send log, never answer 500 and never lose the message (S6, R4).

A NUL (which PostgreSQL refuses in text and jsonb) is dropped and a lone surrogate (which
UTF-8 cannot encode) replaced by U+FFFD once the request proved where it came from
(``text.storable``); a sender address no answer can go to makes the away message a logged
refusal while the guest's message is kept. Each provider's request is signed as it signs it
(the local fakes' helpers), at the real URLs.
"""

from __future__ import annotations

import base64
import json
import logging
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from channels_out.backends import sandbox
from channels_out.ledger import credits_add
from channels_out.models import (
    ChannelAccount,
    DeliveryEvent,
    InboundMessage,
    MessagingPolicy,
    OutboundMessage,
    Status,
)
from channels_out.services import Step, message_send
from tests.channels_out.test_backend_twilio import (
    SMS_FROM,
    TOKEN,
    fake,  # noqa: F401 (fixture)
    twilio_account,
)
from tests.channels_out.test_webhooks_sandbox import post_inbound, sink, sms  # noqa: F401 (fixtures)
from tests.fakes.twilio_api import FakeTwilio, signed_status_callback
from tests.fakes.vonage_messages import signed_webhook
from tests.inbox.test_viber_replies import (
    API_KEY,
    SIG_SECRET,
    viber,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.django_db

AUTO_REPLY = "We are closed; we answer at 8 in the morning."
LONG_NUMBER = "+9" + "1" * 400


def no_500_client() -> Client:
    """A client that answers as production would: a view's exception is a 500, not raised."""
    return Client(raise_request_exception=False)


def inbound_url(account: ChannelAccount) -> str:
    return reverse("channels_out:inbound-webhook", kwargs={"account_id": account.pk})


def status_url(account: ChannelAccount) -> str:
    return reverse("channels_out:status-webhook", kwargs={"account_id": account.pk})


def test_storable_drops_nul_and_replaces_lone_surrogates_everywhere_in_a_value() -> None:
    from channels_out.text import storable

    value = {"a\x00": ["b\x00c", ("d\ud800",)], "n": 7, "none": None}
    assert storable(value) == {"a": ["bc", ("d\ufffd",)], "n": 7, "none": None}
    assert storable("Room 214, tab\there\r\n") == "Room 214, tab\there\r\n"  # the rest kept


# --- Twilio ------------------------------------------------------------------------------------


@pytest.fixture
def twilio_sms(
    fake: FakeTwilio,  # noqa: F811 (the Twilio tests' fixture)
    no_quiet_hours: MessagingPolicy,
) -> ChannelAccount:
    credits_add(amount=Decimal(100), key="test")
    return twilio_account(fake, "sms", auto_reply=AUTO_REPLY)


def twilio_post(account: ChannelAccount, *, from_: str, body: str, sid: str = "SM" + "a" * 32):  # type: ignore[no-untyped-def]
    path = inbound_url(account)
    params = {"MessageSid": sid, "From": from_, "To": SMS_FROM, "Body": body, "NumMedia": "0"}
    headers, data = signed_status_callback(f"http://testserver{path}", params, TOKEN)
    return no_500_client().post(
        path,
        data=data,
        content_type=headers["Content-Type"],
        headers={"X-Twilio-Signature": headers["X-Twilio-Signature"]},
    )


def test_a_signed_twilio_message_with_a_nul_is_kept_without_it_once(twilio_sms) -> None:
    for _ in range(2):  # Twilio retries a webhook it thinks failed
        answer = twilio_post(twilio_sms, from_="+905321234567", body="a\x00b")
        assert answer.status_code == 200
    [message] = InboundMessage.objects.all()
    assert (message.body, message.from_number) == ("ab", "+905321234567")
    assert message.provider_message_id == "SM" + "a" * 32
    # The away message went once, as for any message.
    assert OutboundMessage.objects.filter(source="auto_reply").count() == 1


def test_a_signed_twilio_message_from_an_overlong_number_is_kept_and_not_answered(
    twilio_sms, caplog
) -> None:
    with caplog.at_level(logging.WARNING, logger="channels_out.services.inbound"):
        answer = twilio_post(twilio_sms, from_=LONG_NUMBER, body="Is the pool open?")
    assert answer.status_code == 200
    [message] = InboundMessage.objects.all()
    assert message.body == "Is the pool open?"
    assert message.from_number == LONG_NUMBER[:254]
    assert not OutboundMessage.objects.exists()
    assert "Away message" in caplog.text
    assert "longer than 254 characters" in caplog.text


# --- Vonage Viber ------------------------------------------------------------------------------


def test_a_signed_viber_message_with_a_nul_and_a_lone_surrogate_is_kept_once(
    viber: ChannelAccount,  # noqa: F811 (the Viber reply tests' fixture)
) -> None:
    payload = {
        "channel": "viber_service",
        "message_uuid": "aaaa-1",
        "to": "16273",
        "from": "905321234567",
        "timestamp": "2026-12-04T09:15:00Z",
        "message_type": "text",
        "text": "a\u0000b \ud800c",
    }
    headers, body = signed_webhook(payload, SIG_SECRET, API_KEY)
    assert b"\\u0000" in body
    for _ in range(2):  # Vonage retries: one message
        answer = no_500_client().post(
            inbound_url(viber), data=body, content_type="application/json", headers=headers
        )
        assert answer.status_code in (200, 204)
    [message] = InboundMessage.objects.all()
    assert (message.body, message.provider_message_id) == ("ab \ufffdc", "aaaa-1")


# --- Postmark (anymail) ------------------------------------------------------------------------

POSTMARK_AUTH = "postmark:hook-pass-0123"


@pytest.fixture
def postmark(no_quiet_hours: MessagingPolicy, monkeypatch) -> ChannelAccount:
    from channels_out.backends import backend_class

    monkeypatch.setattr(
        backend_class("anymail_postmark"), "connection_path", "anymail.backends.test.EmailBackend"
    )
    return ChannelAccount.objects.create(
        channel="email",
        backend="anymail_postmark",
        name="Postmark",
        sender="hello@lykiabay.example",
        secret="api-key-0123",
        webhook_secret=POSTMARK_AUTH,
        is_default=True,
        rate_per_second=1000,
    )


def test_a_postmark_bounce_with_a_nul_is_applied_once(postmark, deliver_queued) -> None:
    message = message_send(
        steps=Step(channel="email", to="ayse@example.com", subject="Room", text="Room 214")
    )
    deliver_queued()
    message.refresh_from_db()
    assert message.status == Status.SENT
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": message.provider_message_id,
        "Description": "Unknown user\u0000.",
        "Details": "a\u0000b smtp;550 5.1.1 no such user",
        "Email": message.to,
        "BouncedAt": "2026-12-04T08:33:54.9070259Z",
        "Metadata": {"crm_message": str(message.pk)},
    }
    header = "Basic " + base64.b64encode(POSTMARK_AUTH.encode()).decode()
    for _ in range(2):  # Postmark retries
        answer = no_500_client().post(
            status_url(postmark),
            json.dumps(bounce),
            content_type="application/json",
            HTTP_AUTHORIZATION=header,
        )
        assert answer.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.UNDELIVERED
    [event] = DeliveryEvent.objects.filter(message=message, source="webhook", applied=True)
    assert event.payload["mta_response"] == "ab smtp;550 5.1.1 no such user"
    assert "\x00" not in event.description


# --- the sandbox -------------------------------------------------------------------------------


@pytest.fixture
def sandbox_sms(sms: ChannelAccount) -> ChannelAccount:  # noqa: F811 (the sandbox tests')
    """The sandbox tests' SMS account, with an away message."""
    sms.auto_reply = AUTO_REPLY
    sms.save(update_fields=["auto_reply"])
    return sms


def sandbox_post(account: ChannelAccount, body: bytes):  # type: ignore[no-untyped-def]
    return post_inbound(no_500_client(), account, body)


def test_a_signed_sandbox_message_with_a_nul_is_kept_without_it_once(sandbox_sms) -> None:
    body = sandbox.inbound_body(
        from_number="+905329876543", body="a\x00b", channel="sms", provider_message_id="SBIN1"
    )
    assert b"\\u0000" in body
    for _ in range(2):
        assert sandbox_post(sandbox_sms, body).status_code == 204
    [message] = InboundMessage.objects.all()
    assert message.body == "ab"
    assert OutboundMessage.objects.filter(source="auto_reply").count() == 1


def test_a_signed_sandbox_message_from_an_overlong_sender_is_kept(sandbox_sms, caplog) -> None:
    sender = "x" * 1000
    body = sandbox.inbound_body(from_number=sender, body="Hello", channel="sms")
    with caplog.at_level(logging.WARNING, logger="channels_out.services.inbound"):
        assert sandbox_post(sandbox_sms, body).status_code == 204
    [message] = InboundMessage.objects.all()
    assert (message.body, message.from_number) == ("Hello", sender[:254])
    assert not OutboundMessage.objects.exists()
    assert "Away message" in caplog.text


def test_a_signed_sandbox_message_with_a_long_provider_id_gets_its_away_message(
    sandbox_sms,
) -> None:
    body = sandbox.inbound_body(
        from_number="+905329876543", body="Hello", channel="sms", provider_message_id="I" * 240
    )
    assert sandbox_post(sandbox_sms, body).status_code == 204
    [message] = InboundMessage.objects.all()
    assert message.provider_message_id == "I" * 240
    [reply] = OutboundMessage.objects.filter(source="auto_reply")
    assert (reply.to, reply.body) == ("+905329876543", AUTO_REPLY)


# --- message_send ------------------------------------------------------------------------------


def test_message_send_refuses_an_address_longer_than_the_log_holds(sandbox_sms) -> None:
    with pytest.raises(ValidationError) as refused:
        message_send(steps=Step(channel="sms", to=LONG_NUMBER, text="Hello"))
    assert "to" in refused.value.message_dict
    assert "longer than 254 characters" in refused.value.message_dict["to"][0]
    assert not OutboundMessage.objects.exists()
    assert not DeliveryEvent.objects.exists()
