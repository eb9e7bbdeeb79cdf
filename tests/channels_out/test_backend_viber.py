"""The Vonage Messages (Viber) backend against a loopback fake of the API (S2, S6, R2, R4).

The real ``requests`` client talks to ``tests/fakes/vonage_messages.py``; the fake's signed
status webhooks land in a loopback sink (our ``PUBLIC_BASE_URL`` during the test) and are
relayed, byte for byte, through Django's test client to our status webhook.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from channels_out.backends import TransportError, get_backend
from channels_out.dispatch import deliver
from channels_out.ledger import credits_add
from channels_out.models import (
    ChannelAccount,
    DeliveryEvent,
    MessagingPolicy,
    OutboundMessage,
    Status,
)
from channels_out.services import Step, message_send
from guests.services import guest_record_consent
from tests.channels_out.outcomes import kind_of
from tests.factories import GuestFactory
from tests.fakes._server import CallbackRecord, WebhookSink, running_webhook_sink
from tests.fakes.vonage_messages import (
    FakeVonageMessages,
    VonageOutcome,
    running_fake_vonage,
    signed_webhook,
    status_webhook_payload,
)

pytestmark = pytest.mark.django_db

API_KEY = "abcd1234"
API_SECRET = "vonage-api-secret"
SIG_SECRET = "vonage-signature-secret-0123456789abcdef"
SERVICE_ID = "16273"  # Vonage's sandbox Viber service message ID
PHONE = "+905321234567"


@pytest.fixture
def sink(settings) -> Iterator[WebhookSink]:
    with running_webhook_sink() as receiver:
        settings.PUBLIC_BASE_URL = receiver.base_url
        yield receiver


@pytest.fixture
def fake(sink: WebhookSink) -> Iterator[FakeVonageMessages]:
    with running_fake_vonage(API_KEY, API_SECRET, SIG_SECRET) as server:
        yield server


@pytest.fixture
def viber(fake: FakeVonageMessages, no_quiet_hours: MessagingPolicy) -> ChannelAccount:
    credits_add(amount=Decimal(100), key="t")
    return ChannelAccount.objects.create(
        channel="viber",
        backend="vonage_viber",
        name="Vonage Viber",
        sender=SERVICE_ID,
        is_default=True,
        account_id=API_KEY,
        secret=API_SECRET,
        webhook_secret=SIG_SECRET,
        api_base_url=fake.base_url,
        timeout_seconds=1,
        ttl_seconds=600,
        rate_per_second=1000,
    )


def _queue(
    django_capture_on_commit_callbacks,
    *,
    purpose: str = "service",
    text: str = "Your room 214 is ready",
) -> OutboundMessage:
    guest = GuestFactory(phone=PHONE)
    if purpose == "marketing":
        guest_record_consent(
            guest=guest, purpose="marketing", channel="viber", granted=True, source="staff"
        )
    with django_capture_on_commit_callbacks():
        message = message_send(steps=Step(channel="viber", text=text), guest=guest, purpose=purpose)
    assert message.status == Status.QUEUED
    return message


def _sent(django_capture_on_commit_callbacks, **kwargs) -> OutboundMessage:
    message = _queue(django_capture_on_commit_callbacks, **kwargs)
    deliver([message.pk])
    message.refresh_from_db()
    return message


def relay(client: Client, record: CallbackRecord):  # type: ignore[no-untyped-def]
    """Post a webhook the fake sent to the sink through Django, exactly as it was signed."""
    url = urlsplit(record.url)
    return client.post(
        f"{url.path}?{url.query}" if url.query else url.path,
        data=record.body,
        content_type="application/json",
        headers={"Authorization": record.headers["Authorization"]},
    )


def status_url(account: ChannelAccount) -> str:
    return reverse("channels_out:status-webhook", kwargs={"account_id": account.pk})


class TestSending:
    def test_a_send_posts_the_viber_message_with_basic_auth_and_keeps_the_uuid(
        self, viber, fake, sink, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(django_capture_on_commit_callbacks)
        [request] = fake.requests
        assert request.path == "/v1/messages"
        assert request.auth == (API_KEY, API_SECRET)
        assert request.json == {
            "message_type": "text",
            "channel": "viber_service",
            "to": "905321234567",
            "from": SERVICE_ID,
            "text": "Your room 214 is ready",
            "client_ref": str(message.pk),
            "viber_service": {"category": "transaction", "ttl": 600},
            "webhook_url": f"{sink.base_url}{status_url(viber)}?m={message.pk}",
            "webhook_version": "v1",
        }
        [uuid] = fake.messages
        assert (message.status, message.provider_message_id) == (Status.SENT, uuid)
        assert message.sent_at is not None

    def test_a_marketing_message_goes_as_a_promotion(
        self, viber, fake, django_capture_on_commit_callbacks
    ) -> None:
        _sent(django_capture_on_commit_callbacks, purpose="marketing")
        assert fake.requests[0].json["viber_service"]["category"] == "promotion"

    def test_the_backend_returns_the_message_uuid(
        self, viber, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        accepted = get_backend(viber).send(message)
        assert accepted.provider_message_id in fake.messages
        assert accepted.status == "sent"

    def test_a_ttl_beyond_vonages_limit_is_capped(
        self, viber, fake, django_capture_on_commit_callbacks
    ) -> None:
        viber.ttl_seconds = (
            1_209_600  # what the model allows (14 days); Vonage takes at most 3 days
        )
        viber.save()
        message = _sent(django_capture_on_commit_callbacks)
        assert message.status == Status.SENT
        assert fake.requests[0].json["viber_service"]["ttl"] == 259_200


class TestProviderErrors:
    def test_rate_limited_is_transient_and_the_message_waits_for_a_retry(
        self, viber, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        fake.script(VonageOutcome.rate_limited())
        retries = deliver([message.pk])
        message.refresh_from_db()
        assert set(retries) == {message.pk}
        assert (message.status, message.attempts, message.provider_code) == (
            Status.QUEUED,
            1,
            "1010",
        )
        assert message.not_before is not None

    @pytest.mark.parametrize(
        ("outcome", "code", "words"),
        [
            (VonageOutcome.invalid_params("to", "must be E.164"), "1150", "Invalid params"),
            (VonageOutcome.invalid_sender(), "1120", "Invalid sender"),
            (
                VonageOutcome.unauthorized(),
                "unathorized",
                "You did not provide correct credentials.",
            ),
            (VonageOutcome.low_balance(), "low-balance", "Low balance"),
        ],
        ids=["422-invalid-params", "422-invalid-sender", "401", "402"],
    )
    def test_a_client_error_is_permanent_with_the_problem_type_as_code(
        self, viber, fake, django_capture_on_commit_callbacks, outcome, code: str, words: str
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        fake.script(outcome)
        with pytest.raises(TransportError) as caught:
            get_backend(viber).send(message)
        assert (kind_of(caught.value), caught.value.code) == ("permanent", code)
        assert words in caught.value.message

    def test_a_rejected_request_fails_the_message_with_the_reason(
        self, viber, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        fake.script(VonageOutcome.invalid_params("to", "must be E.164"))
        assert deliver([message.pk]) == {}
        message.refresh_from_db()
        assert (message.status, message.provider_code) == (Status.FAILED, "1150")
        assert "Invalid params" in message.reason and "to: must be E.164" in message.reason

    def test_an_answer_later_than_the_timeout_is_an_unknown_outcome(
        self, viber, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        fake.script(VonageOutcome.delay(3))
        assert deliver([message.pk]) == {}
        message.refresh_from_db()
        assert message.status == Status.UNKNOWN
        assert len(fake.messages) == 1  # it did go out: resending blindly would send it twice

    @pytest.mark.parametrize(
        "outcome",
        [
            VonageOutcome.server_error(500),
            VonageOutcome.server_error(503),
            VonageOutcome.disconnect(),
        ],
        ids=["500", "503", "connection-dropped"],
    )
    def test_a_server_error_or_a_dropped_connection_is_ambiguous(
        self, viber, fake, django_capture_on_commit_callbacks, outcome
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        fake.script(outcome)
        with pytest.raises(TransportError) as caught:
            get_backend(viber).send(message)
        assert kind_of(caught.value) == "ambiguous"

    def test_a_refused_connection_is_transient(
        self, viber, django_capture_on_commit_callbacks
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        viber.api_base_url = f"http://127.0.0.1:{closed_port}"
        viber.save()
        message = _queue(django_capture_on_commit_callbacks)
        with pytest.raises(TransportError) as caught:
            get_backend(viber).send(message)
        assert kind_of(caught.value) == "transient"


class TestStatusWebhooks:
    def test_signed_receipts_mark_the_message_delivered(
        self, viber, fake, sink, client, django_capture_on_commit_callbacks
    ) -> None:
        fake.script(VonageOutcome.delivered(read=True))
        message = _sent(django_capture_on_commit_callbacks)
        callbacks = fake.wait_for_callbacks(3)
        assert [c.payload["status"] for c in callbacks] == ["submitted", "delivered", "read"]
        assert {urlsplit(c.url).path for c in callbacks} == {status_url(viber)}
        for callback in callbacks:
            assert relay(client, callback).status_code == 204
        message.refresh_from_db()
        assert message.status == Status.DELIVERED
        assert message.delivered_at is not None
        events = DeliveryEvent.objects.filter(message=message, source="webhook").order_by("pk")
        assert [(e.provider_status, e.status, e.applied) for e in events] == [
            ("submitted", Status.SENT, False),
            ("delivered", Status.DELIVERED, True),
            ("read", Status.DELIVERED, False),
        ]

    def test_a_receipt_is_matched_by_client_ref_before_our_sent_write(
        self, viber, fake, client, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        payload = status_webhook_payload(
            "0f6f3c1e-0000-4000-8000-000000000001",
            "905321234567",
            SERVICE_ID,
            "delivered",
            client_ref=str(message.pk),
        )
        headers, body = fake.signed_webhook(payload)
        answer = client.post(
            status_url(viber),
            data=body,
            content_type="application/json",
            headers={"Authorization": headers["Authorization"]},
        )
        assert answer.status_code == 204
        message.refresh_from_db()
        assert (message.status, message.provider_message_id) == (
            Status.DELIVERED,
            payload["message_uuid"],
        )

    @pytest.mark.parametrize(
        ("code", "words"),
        [
            (1300, "not a user in the provider network"),
            (1310, "device can't receive"),
            (1360, "TTL was activated"),
        ],
    )
    def test_a_rejection_fails_the_message_with_vonages_code_and_detail(
        self, viber, fake, client, django_capture_on_commit_callbacks, code: int, words: str
    ) -> None:
        message = _sent(django_capture_on_commit_callbacks)
        callback = fake.callback(message.provider_message_id, "rejected", code)
        assert relay(client, callback).status_code == 204
        message.refresh_from_db()
        assert (message.status, message.provider_code) == (Status.FAILED, str(code))
        assert words in message.reason

    def test_an_unknown_status_word_is_kept_as_an_event_and_changes_nothing(
        self, viber, fake, client, caplog, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(django_capture_on_commit_callbacks)
        callback = fake.callback(message.provider_message_id, "bogus")
        assert relay(client, callback).status_code == 204
        message.refresh_from_db()
        assert message.status == Status.SENT
        event = DeliveryEvent.objects.get(message=message, source="webhook")
        assert (event.provider_status, event.status, event.applied) == ("bogus", Status.SENT, False)
        assert "bogus" in caplog.text

    def test_an_undeliverable_receipt_fails_the_message(
        self, viber, fake, client, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(django_capture_on_commit_callbacks)
        assert (
            relay(client, fake.callback(message.provider_message_id, "undeliverable")).status_code
            == 204
        )
        message.refresh_from_db()
        assert message.status == Status.FAILED

    def _assert_nothing_changed(self, message: OutboundMessage) -> None:
        before = message.status
        message.refresh_from_db()
        assert message.status == before == Status.SENT
        assert not DeliveryEvent.objects.filter(message=message, source="webhook").exists()

    def test_a_receipt_signed_with_another_secret_is_refused(
        self, viber, fake, client, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(django_capture_on_commit_callbacks)
        payload = status_webhook_payload(
            message.provider_message_id,
            "905321234567",
            SERVICE_ID,
            "delivered",
            client_ref=str(message.pk),
        )
        headers, body = signed_webhook(
            payload, "an-attackers-guess-at-the-secret-0123456789", API_KEY
        )
        answer = client.post(
            status_url(viber),
            data=body,
            content_type="application/json",
            headers={"Authorization": headers["Authorization"]},
        )
        assert answer.status_code == 403
        self._assert_nothing_changed(message)

    def test_a_tampered_body_is_refused(
        self, viber, fake, client, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(django_capture_on_commit_callbacks)
        callback = fake.callback(message.provider_message_id, "rejected", 1300)
        tampered = callback.body.replace(b'"rejected"', b'"delivered"')
        assert tampered != callback.body
        answer = client.post(
            status_url(viber),
            data=tampered,
            content_type="application/json",
            headers={"Authorization": callback.headers["Authorization"]},
        )
        assert answer.status_code == 403
        self._assert_nothing_changed(message)

    @pytest.mark.parametrize(
        "authorization", [None, "Basic YWJjZDEyMzQ6c2VjcmV0", "Bearer not-a-jwt"]
    )
    def test_a_receipt_without_a_valid_token_is_refused(
        self, viber, fake, client, django_capture_on_commit_callbacks, authorization: str | None
    ) -> None:
        message = _sent(django_capture_on_commit_callbacks)
        payload = status_webhook_payload(
            message.provider_message_id, "905321234567", SERVICE_ID, "delivered"
        )
        _, body = fake.signed_webhook(payload)
        headers = {"Authorization": authorization} if authorization else {}
        answer = client.post(
            status_url(viber), data=body, content_type="application/json", headers=headers
        )
        assert answer.status_code == 403
        self._assert_nothing_changed(message)

    def test_a_token_for_another_api_key_is_refused(
        self, viber, fake, client, django_capture_on_commit_callbacks
    ) -> None:
        message = _sent(django_capture_on_commit_callbacks)
        payload = status_webhook_payload(
            message.provider_message_id, "905321234567", SERVICE_ID, "delivered"
        )
        headers, body = signed_webhook(payload, SIG_SECRET, "someone-else")
        answer = client.post(
            status_url(viber),
            data=body,
            content_type="application/json",
            headers={"Authorization": headers["Authorization"]},
        )
        assert answer.status_code == 403
        self._assert_nothing_changed(message)


def test_a_vonage_viber_account_with_a_numeric_service_id_is_valid(db) -> None:
    account = ChannelAccount(
        channel="viber",
        backend="vonage_viber",
        name="Vonage Viber",
        sender=SERVICE_ID,
        account_id=API_KEY,
        secret=API_SECRET,
        webhook_secret=SIG_SECRET,
        ttl_seconds=600,
    )
    try:
        account.full_clean()
    except ValidationError as exc:
        pytest.fail(str(exc.message_dict))


def test_an_account_without_key_secret_or_sender_names_each_missing_field(db) -> None:
    account = ChannelAccount(channel="viber", backend="vonage_viber", name="Vonage Viber")
    with pytest.raises(ValidationError) as caught:
        account.full_clean()
    assert {"account_id", "secret", "sender"} <= set(caught.value.message_dict)
