"""The sandbox provider's webhooks through Django (S2, S3, S6, G6, R4).

Receipts and inbound messages are built with the sandbox's own helpers
(``receipt_body``, ``inbound_body``, ``sign``) and posted with Django's test client. The
sandbox's simulated provider posts its own receipts to ``PUBLIC_BASE_URL``, which points
at a loopback sink during these tests, so nothing leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from channels_out import dispatch
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
from guests.models import ConsentRecord, ConsentSource, Guest
from tests.factories import GuestFactory
from tests.fakes._server import WebhookSink, running_webhook_sink

pytestmark = pytest.mark.django_db

# The sandbox picks its outcome by the number's last digits; this one is delivered.
PHONE = "+905321234567"


@pytest.fixture
def sink(settings) -> Iterator[WebhookSink]:
    with running_webhook_sink() as receiver:
        settings.PUBLIC_BASE_URL = receiver.base_url
        yield receiver


@pytest.fixture
def sms(sink: WebhookSink, no_quiet_hours: MessagingPolicy) -> ChannelAccount:
    credits_add(amount=Decimal(100), key="t")
    return ChannelAccount.objects.create(
        channel="sms",
        backend="sandbox",
        name="Sandbox SMS",
        sender="LYKIA BAY",
        is_default=True,
        webhook_secret="sandbox-webhook-secret",
        rate_per_second=1000,
    )


@pytest.fixture
def viber(sms: ChannelAccount) -> ChannelAccount:
    return ChannelAccount.objects.create(
        channel="viber",
        backend="sandbox",
        name="Sandbox Viber",
        sender="LYKIA BAY",
        is_default=True,
        webhook_secret="sandbox-viber-secret",
        fallback_account=sms,
        ttl_seconds=60,
        rate_per_second=1000,
    )


def _sent(guest: Guest, channel: str, django_capture_on_commit_callbacks) -> OutboundMessage:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks():
        message = message_send(
            steps=Step(channel=channel, text="Your room 214 is ready."), guest=guest
        )
    dispatch.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def post_receipt(
    client: Client, account: ChannelAccount, body: bytes, signature: str | None = None
):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("channels_out:status-webhook", kwargs={"account_id": account.pk}),
        data=body,
        content_type="application/json",
        headers={
            sandbox.SIGNATURE_HEADER: sandbox.sign(account, body)
            if signature is None
            else signature
        },
    )


def post_inbound(
    client: Client, account: ChannelAccount, body: bytes, signature: str | None = None
):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("channels_out:inbound-webhook", kwargs={"account_id": account.pk}),
        data=body,
        content_type="application/json",
        headers={
            sandbox.SIGNATURE_HEADER: sandbox.sign(account, body)
            if signature is None
            else signature
        },
    )


class TestStatusWebhook:
    def test_a_signed_receipt_marks_the_message_delivered(
        self, sms, client, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(GuestFactory(phone=PHONE), "sms", django_capture_on_commit_callbacks)
        body = sandbox.receipt_body(
            provider_message_id=message.provider_message_id,
            status="delivered",
            message_ref=str(message.pk),
        )
        assert post_receipt(client, sms, body).status_code == 204
        message.refresh_from_db()
        assert message.status == Status.DELIVERED
        assert DeliveryEvent.objects.filter(
            message=message, source="webhook", status=Status.DELIVERED
        ).exists()

    def test_an_unknown_status_word_is_kept_as_an_event_and_changes_nothing(
        self, sms, client, caplog, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(GuestFactory(phone=PHONE), "sms", django_capture_on_commit_callbacks)
        body = sandbox.receipt_body(
            provider_message_id=message.provider_message_id,
            status="bogus",
            message_ref=str(message.pk),
        )
        assert post_receipt(client, sms, body).status_code == 204
        message.refresh_from_db()
        assert message.status == Status.SENT
        event = DeliveryEvent.objects.get(message=message, source="webhook")
        assert (event.provider_status, event.status, event.applied) == ("bogus", Status.SENT, False)
        assert "unknown status" in event.description
        assert "bogus" in caplog.text

    def test_the_sandbox_posts_its_own_signed_receipt(
        self, sms, sink, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(GuestFactory(phone=PHONE), "sms", django_capture_on_commit_callbacks)
        [request] = sink.wait_for_requests(1)
        assert request.path == reverse("channels_out:status-webhook", kwargs={"account_id": sms.pk})
        assert request.header(sandbox.SIGNATURE_HEADER) == sandbox.sign(sms, request.body)
        assert json.loads(request.body)["ref"] == str(message.pk)

    @pytest.mark.parametrize("signature", ["", "0" * 64, "wrong"])
    def test_a_receipt_with_a_wrong_signature_is_refused_and_changes_nothing(
        self, sms, client, django_capture_on_commit_callbacks, signature: str
    ) -> None:
        message = _sent(GuestFactory(phone=PHONE), "sms", django_capture_on_commit_callbacks)
        body = sandbox.receipt_body(
            provider_message_id=message.provider_message_id,
            status="delivered",
            message_ref=str(message.pk),
        )
        assert post_receipt(client, sms, body, signature=signature).status_code == 403
        message.refresh_from_db()
        assert message.status == Status.SENT
        assert not DeliveryEvent.objects.filter(message=message, source="webhook").exists()

    def test_a_receipt_signed_for_another_account_is_refused(
        self, sms, viber, client, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(GuestFactory(phone=PHONE), "sms", django_capture_on_commit_callbacks)
        body = sandbox.receipt_body(
            provider_message_id=message.provider_message_id,
            status="delivered",
            message_ref=str(message.pk),
        )
        assert (
            post_receipt(client, sms, body, signature=sandbox.sign(viber, body)).status_code == 403
        )
        message.refresh_from_db()
        assert message.status == Status.SENT

    def test_not_a_viber_user_falls_back_to_one_sms(
        self, viber, sms, sink, client, django_capture_on_commit_callbacks
    ) -> None:
        guest = GuestFactory(phone="+905321112222")  # the sandbox's "not a Viber user"
        message = _sent(guest, "viber", django_capture_on_commit_callbacks)
        simulated = json.loads(sink.wait_for_requests(1)[0].body)
        assert (simulated["status"], simulated["code"]) == ("failed", "1300")

        body = sandbox.receipt_body(
            provider_message_id=message.provider_message_id,
            status="failed",
            message_ref=str(message.pk),
            code="1300",
            description="not a Viber user (sandbox)",
        )
        assert post_receipt(client, viber, body).status_code == 204
        assert post_receipt(client, viber, body).status_code == 204  # the provider retries
        message.refresh_from_db()
        assert (message.status, message.provider_code) == (Status.FAILED, "1300")
        [fallback] = OutboundMessage.objects.filter(channel="sms")
        assert (fallback.fallback_for, fallback.account, fallback.to) == (message, sms, guest.phone)

        dispatch.deliver([fallback.pk])
        fallback.refresh_from_db()
        assert fallback.status == Status.SENT
        assert OutboundMessage.objects.filter(channel="sms").count() == 1


class TestInboundWebhook:
    def test_stop_and_start_write_consent_records(self, sms, client) -> None:
        guest = GuestFactory(phone="+905329876543")
        stop = sandbox.inbound_body(from_number=guest.phone, body="STOP", channel="sms")
        assert post_inbound(client, sms, stop).status_code == 204
        start = sandbox.inbound_body(from_number=guest.phone, body="start", channel="sms")
        assert post_inbound(client, sms, start).status_code == 204

        records = ConsentRecord.objects.filter(guest=guest).order_by("recorded_at", "pk")
        assert [(r.purpose, r.channel, r.granted, r.source) for r in records] == [
            ("marketing", "sms", False, ConsentSource.INBOUND_KEYWORD),
            ("marketing", "sms", True, ConsentSource.INBOUND_KEYWORD),
        ]
        assert list(
            InboundMessage.objects.filter(guest=guest)
            .values_list("keyword", flat=True)
            .order_by("pk")
        ) == ["STOP", "start"]  # as the guest wrote them

    def test_the_same_stop_twice_is_recorded_once(self, sms, client) -> None:
        guest = GuestFactory(phone="+905329876543")
        stop = sandbox.inbound_body(
            from_number=guest.phone, body="STOP", channel="sms", provider_message_id="SBIN1"
        )
        assert post_inbound(client, sms, stop).status_code == 204
        assert post_inbound(client, sms, stop).status_code == 204
        assert ConsentRecord.objects.filter(guest=guest).count() == 1
        assert InboundMessage.objects.count() == 1

    def test_an_inbound_stop_with_a_wrong_signature_is_refused_and_changes_nothing(
        self, sms, client
    ) -> None:
        guest = GuestFactory(phone="+905329876543")
        stop = sandbox.inbound_body(from_number=guest.phone, body="STOP", channel="sms")
        assert post_inbound(client, sms, stop, signature="f" * 64).status_code == 403
        assert not ConsentRecord.objects.filter(guest=guest).exists()
        assert not InboundMessage.objects.exists()


def test_a_sandbox_email_bounce_suppresses_the_address(sink, no_quiet_hours) -> None:
    """E2 in the demo: the sandbox's e-mail bounce is a hard bounce like an ESP's."""
    from channels_out.models import Suppression

    account = ChannelAccount.objects.create(
        channel="email",
        backend="sandbox",
        name="Sandbox mail",
        sender="hotel@example.com",
        is_default=True,
        webhook_secret="sandbox-webhook-secret",
        rate_per_second=1000,
    )
    message = message_send(
        steps=Step(channel="email", subject="Hello", text="Hi", to="bounce@example.com")
    )
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENT, provider_message_id="SBX1"
    )
    body = sandbox.receipt_body(
        provider_message_id="SBX1",
        status="undelivered",
        message_ref=str(message.pk),
        code="550",
        description="mailbox unavailable (sandbox)",
    )
    response = Client().post(
        reverse("channels_out:status-webhook", kwargs={"account_id": account.pk}),
        body,
        content_type="application/json",
        HTTP_X_SANDBOX_SIGNATURE=sandbox.sign(account, body),
    )

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.UNDELIVERED
    assert Suppression.objects.get().address == "bounce@example.com"
