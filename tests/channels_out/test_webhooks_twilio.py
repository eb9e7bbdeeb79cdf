"""Twilio's webhooks through Django at their real URLs (S5, S6, G6, R4).

Requests are signed exactly as Twilio signs them (the fake's ``signed_status_callback``,
which uses the twilio library's own RequestValidator) for the URL Twilio would call:
``PUBLIC_BASE_URL`` + path, here the test client's ``http://testserver``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from channels_out.dispatch import deliver
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
from guests.models import ConsentRecord, ConsentSource, Guest
from tests.channels_out.test_backend_twilio import (
    SID,
    SMS_FROM,
    TOKEN,
    WHATSAPP_FROM,
    fake_twilio,
    twilio_account,
)
from tests.factories import GuestFactory
from tests.fakes.twilio_api import (
    FakeTwilio,
    signed_status_callback,
    status_callback_params,
)

pytestmark = pytest.mark.django_db

PHONE = "+905321234567"
AUTO_REPLY = "This number does not take replies; please call the hotel on +90 252 000 00 00."


@pytest.fixture
def fake(settings) -> Iterator[FakeTwilio]:
    with fake_twilio(settings) as server:
        yield server


@pytest.fixture
def sms(fake: FakeTwilio, no_quiet_hours: MessagingPolicy) -> ChannelAccount:
    credits_add(amount=Decimal(100), key="test")
    return twilio_account(fake, "sms")


@pytest.fixture
def whatsapp(fake: FakeTwilio, no_quiet_hours: MessagingPolicy) -> ChannelAccount:
    credits_add(amount=Decimal(100), key="test")
    return twilio_account(fake, "whatsapp", auto_reply=AUTO_REPLY)


@pytest.fixture
def guest(db: None) -> Guest:
    return GuestFactory(phone=PHONE)


@pytest.fixture
def sent(sms: ChannelAccount, guest: Guest, django_capture_on_commit_callbacks) -> OutboundMessage:
    with django_capture_on_commit_callbacks():  # nothing goes through Celery: the test delivers
        message = message_send(
            steps=Step(channel="sms", text="Your room 214 is ready."), guest=guest
        )
    deliver([message.pk])
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def status_path(message: OutboundMessage) -> str:
    return (
        reverse("channels_out:status-webhook", kwargs={"account_id": message.account_id})
        + f"?m={message.pk}"
    )


def inbound_path(account: ChannelAccount) -> str:
    return reverse("channels_out:inbound-webhook", kwargs={"account_id": account.pk})


def post_signed(
    client: Client,
    path: str,
    params: dict[str, str],
    *,
    signed_url: str | None = None,
    token: str = TOKEN,
    signature: str | None = None,
):  # type: ignore[no-untyped-def]
    """POST form ``params`` to ``path`` signed like Twilio for ``signed_url`` (default: the test client's URL)."""
    headers, body = signed_status_callback(signed_url or f"http://testserver{path}", params, token)
    return client.post(
        path,
        data=body,
        content_type=headers["Content-Type"],
        headers={
            "X-Twilio-Signature": headers["X-Twilio-Signature"] if signature is None else signature
        },
    )


def receipt(
    client: Client,
    fake: FakeTwilio,
    message: OutboundMessage,
    status: str,
    error_code: int | None = None,
    **kwargs,
):  # type: ignore[no-untyped-def]
    params = status_callback_params(fake.message(message.provider_message_id), status, error_code)
    return post_signed(client, status_path(message), params, **kwargs)


def inbound_params(
    *, from_: str, body: str, to: str = SMS_FROM, sid: str | None = None
) -> dict[str, str]:
    """The form Twilio posts for an incoming message."""
    sid = sid or "SM" + secrets.token_hex(16)
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": SID,
        "From": from_,
        "ApiVersion": "2010-04-01",
        "FromCountry": "TR",
    }


def applied_webhook_events(message: OutboundMessage) -> list[str]:
    return list(
        DeliveryEvent.objects.filter(message=message, source="webhook", applied=True)
        .order_by("pk")
        .values_list("status", flat=True)
    )


class TestStatusCallbacks:
    def test_a_delivered_callback_marks_the_message_delivered(self, sent, fake, client) -> None:
        assert receipt(client, fake, sent, "delivered").status_code == 204
        sent.refresh_from_db()
        assert sent.status == Status.DELIVERED
        assert sent.delivered_at is not None
        assert applied_webhook_events(sent) == [Status.DELIVERED]

    def test_the_same_callback_twice_changes_the_status_once(self, sent, fake, client) -> None:
        params = status_callback_params(fake.message(sent.provider_message_id), "delivered")
        for _ in range(2):
            assert post_signed(client, status_path(sent), params).status_code == 204
        sent.refresh_from_db()
        assert sent.status == Status.DELIVERED
        assert applied_webhook_events(sent) == [Status.DELIVERED]
        assert DeliveryEvent.objects.filter(message=sent, source="webhook").count() == 2

    def test_a_late_sent_after_delivered_changes_nothing(self, sent, fake, client) -> None:
        receipt(client, fake, sent, "delivered")
        assert receipt(client, fake, sent, "sent").status_code == 204
        sent.refresh_from_db()
        assert sent.status == Status.DELIVERED
        assert applied_webhook_events(sent) == [Status.DELIVERED]

    def test_undelivered_keeps_the_carrier_error(self, sent, fake, client) -> None:
        assert receipt(client, fake, sent, "undelivered", 30003).status_code == 204
        sent.refresh_from_db()
        assert (sent.status, sent.provider_code) == (Status.UNDELIVERED, "30003")
        assert sent.reason == "unreachable destination handset"

    @pytest.mark.parametrize("status", ["queued", "sending", "accepted"])
    def test_statuses_that_add_nothing_are_ignored(self, sent, fake, client, status: str) -> None:
        assert receipt(client, fake, sent, status).status_code == 204
        sent.refresh_from_db()
        assert sent.status == Status.SENT
        assert not DeliveryEvent.objects.filter(message=sent, source="webhook").exists()

    def test_an_unknown_status_word_is_kept_as_an_event_and_changes_nothing(
        self, sent, fake, client, caplog
    ) -> None:
        assert receipt(client, fake, sent, "bogus").status_code == 204
        sent.refresh_from_db()
        assert sent.status == Status.SENT
        event = DeliveryEvent.objects.get(message=sent, source="webhook")
        assert (event.provider_status, event.status, event.applied) == ("bogus", Status.SENT, False)
        assert "bogus" in caplog.text

    def test_the_receipt_finds_its_message_by_the_m_parameter(self, sent, fake, client) -> None:
        sid = sent.provider_message_id
        OutboundMessage.objects.filter(pk=sent.pk).update(
            provider_message_id=""
        )  # as if our "sent" write lagged
        params = status_callback_params(fake.message(sid), "delivered")
        assert post_signed(client, status_path(sent), params).status_code == 204
        sent.refresh_from_db()
        assert sent.status == Status.DELIVERED
        assert sent.provider_message_id == params["MessageSid"]

    @pytest.mark.parametrize(
        "how",
        ["wrong-token", "no-signature", "other-url", "tampered"],
    )
    def test_a_callback_that_is_not_from_twilio_is_refused_and_changes_nothing(
        self, sent, fake, client, how: str
    ) -> None:
        params = status_callback_params(fake.message(sent.provider_message_id), "delivered")
        path = status_path(sent)
        if how == "wrong-token":
            answer = post_signed(client, path, params, token="not-the-token")
        elif how == "no-signature":
            answer = post_signed(client, path, params, signature="")
        elif how == "other-url":
            answer = post_signed(client, path, params, signed_url=f"http://testserver{path}0")
        else:
            headers, _ = signed_status_callback(f"http://testserver{path}", params, TOKEN)
            forged = signed_status_callback(
                f"http://testserver{path}", {**params, "MessageStatus": "failed"}, TOKEN
            )[1]
            answer = client.post(
                path,
                data=forged,
                content_type=headers["Content-Type"],
                headers={"X-Twilio-Signature": headers["X-Twilio-Signature"]},
            )
        assert answer.status_code == 403
        sent.refresh_from_db()
        assert sent.status == Status.SENT
        assert not DeliveryEvent.objects.filter(message=sent, source="webhook").exists()

    def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(
        self, sent, fake, client, settings
    ) -> None:
        settings.PUBLIC_BASE_URL = "https://crm.lykiabay.example"
        params = status_callback_params(fake.message(sent.provider_message_id), "delivered")
        path = status_path(sent)
        answer = post_signed(client, path, params, signed_url=f"https://crm.lykiabay.example{path}")
        assert answer.status_code == 204
        sent.refresh_from_db()
        assert sent.status == Status.DELIVERED


class TestInbound:
    def test_stop_opts_the_guest_out_of_marketing_by_sms(self, sms, guest, client) -> None:
        answer = post_signed(client, inbound_path(sms), inbound_params(from_=PHONE, body="STOP"))
        assert answer.status_code == 200
        assert answer["Content-Type"] == "text/xml"
        assert answer.content == b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
        [record] = ConsentRecord.objects.filter(guest=guest)
        assert (record.purpose, record.channel, record.granted, record.source) == (
            "marketing",
            "sms",
            False,
            ConsentSource.INBOUND_KEYWORD,
        )
        assert InboundMessage.objects.get(account=sms).keyword == "STOP"

    def test_start_opts_the_guest_back_in(self, sms, guest, client) -> None:
        post_signed(client, inbound_path(sms), inbound_params(from_=PHONE, body="STOP"))
        post_signed(client, inbound_path(sms), inbound_params(from_=PHONE, body="start"))
        latest = ConsentRecord.objects.filter(
            guest=guest, purpose="marketing", channel="sms"
        ).first()
        assert latest is not None
        assert (latest.granted, latest.source) == (True, ConsentSource.INBOUND_KEYWORD)
        assert ConsentRecord.objects.filter(guest=guest).count() == 2

    def test_an_unsigned_inbound_message_is_refused(self, sms, guest, client) -> None:
        answer = post_signed(
            client, inbound_path(sms), inbound_params(from_=PHONE, body="STOP"), token="forged"
        )
        assert answer.status_code == 403
        assert not ConsentRecord.objects.exists()
        assert not InboundMessage.objects.exists()

    def test_a_whatsapp_message_gets_the_auto_reply_once(self, whatsapp, guest, client) -> None:
        params = inbound_params(
            from_=f"whatsapp:{PHONE}", to=f"whatsapp:{WHATSAPP_FROM}", body="Is the pool open?"
        )
        for _ in range(2):  # Twilio retries a webhook it thinks failed
            answer = post_signed(client, inbound_path(whatsapp), params)
            assert answer.status_code == 200
        [inbound] = InboundMessage.objects.all()
        assert (inbound.channel, inbound.from_number, inbound.guest) == ("whatsapp", PHONE, guest)
        [reply] = OutboundMessage.objects.filter(source="auto_reply")
        assert (reply.channel, reply.to, reply.body, reply.status) == (
            "whatsapp",
            PHONE,
            AUTO_REPLY,
            Status.QUEUED,
        )
        assert reply.account == whatsapp

    def test_the_auto_reply_goes_to_twilio_as_a_whatsapp_message(
        self, whatsapp, guest, fake, client
    ) -> None:
        post_signed(
            client, inbound_path(whatsapp), inbound_params(from_=f"whatsapp:{PHONE}", body="Hi")
        )
        reply = OutboundMessage.objects.get(source="auto_reply")
        deliver([reply.pk])
        reply.refresh_from_db()
        assert reply.status == Status.SENT
        data = fake.requests[0].data
        assert (data["To"], data["From"], data["Body"]) == (
            f"whatsapp:{PHONE}",
            f"whatsapp:{WHATSAPP_FROM}",
            AUTO_REPLY,
        )
