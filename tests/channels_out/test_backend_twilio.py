"""The Twilio SMS and WhatsApp backends: the real ``twilio`` client against a loopback fake of the API (S2, R2, R3).

``tests/fakes/twilio_api.py`` speaks the Messages API the library calls; the accounts point
at it with ``api_base_url``. Status callbacks are built and signed with the fake's helpers
and posted through Django's test client (``PUBLIC_BASE_URL`` is the test client's host).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from channels_out.backends import TransportError, get_backend
from channels_out.backends.http import retry_after_seconds
from channels_out.dispatch import deliver, sweep
from channels_out.ledger import available_credits, credits_add
from channels_out.models import (
    ChannelAccount,
    InboundMessage,
    LedgerEntry,
    MessagingPolicy,
    OutboundMessage,
    Status,
)
from channels_out.services import Step, message_send
from tests.channels_out.outcomes import kind_of
from tests.factories import GuestFactory
from tests.fakes._server import RecordedRequest, Response
from tests.fakes.twilio_api import (
    FakeTwilio,
    TwilioOutcome,
    running_fake_twilio,
    status_callback_params,
)

pytestmark = pytest.mark.django_db

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token"
SMS_FROM = "+15005550006"
WHATSAPP_FROM = "+14155238886"
PHONE = "+905321234567"
MESSAGING_SERVICE = "MG" + "a" * 32


@contextlib.contextmanager
def fake_twilio(settings) -> Iterator[FakeTwilio]:  # type: ignore[no-untyped-def]
    """Run the fake Twilio; our public URL becomes the test client's, so signed callbacks can be posted to Django."""
    settings.PUBLIC_BASE_URL = "http://testserver"
    with running_fake_twilio(SID, TOKEN) as server:
        yield server


@pytest.fixture
def fake(settings) -> Iterator[FakeTwilio]:
    with fake_twilio(settings) as server:
        yield server


@pytest.fixture
def credits(db: None) -> None:
    credits_add(amount=Decimal(100), key="test")


def twilio_account(fake: FakeTwilio, channel: str, **fields) -> ChannelAccount:
    """A default Twilio account of ``channel`` that talks to ``fake``."""
    values = {
        "channel": channel,
        "backend": f"twilio_{channel}",
        "name": f"Twilio {channel}",
        "account_id": SID,
        "secret": TOKEN,
        "sender": SMS_FROM if channel == "sms" else WHATSAPP_FROM,
        "api_base_url": fake.base_url,
        "timeout_seconds": 1,
        "is_default": True,
        "rate_per_second": 1000,
    }
    values.update(fields)
    return ChannelAccount.objects.create(**values)


@pytest.fixture
def sms(fake: FakeTwilio, credits: None, no_quiet_hours: MessagingPolicy) -> ChannelAccount:
    return twilio_account(fake, "sms")


@pytest.fixture
def whatsapp(fake: FakeTwilio, credits: None, no_quiet_hours: MessagingPolicy) -> ChannelAccount:
    return twilio_account(fake, "whatsapp")


def _queue(django_capture_on_commit_callbacks, step: Step) -> OutboundMessage:
    guest = GuestFactory(phone=PHONE)
    with django_capture_on_commit_callbacks():  # nothing goes through Celery: the test delivers
        message = message_send(steps=step, guest=guest)
    assert message.status == Status.QUEUED, message.reason
    return message


def _sms(
    django_capture_on_commit_callbacks, text: str = "Your room 214 is ready."
) -> OutboundMessage:
    return _queue(django_capture_on_commit_callbacks, Step(channel="sms", text=text))


def _deliver(message: OutboundMessage) -> OutboundMessage:
    deliver([message.pk])
    message.refresh_from_db()
    return message


def _retry_now(message: OutboundMessage) -> OutboundMessage:
    OutboundMessage.objects.filter(pk=message.pk).update(not_before=None)
    return _deliver(message)


def _open_whatsapp_window(account: ChannelAccount) -> None:
    InboundMessage.objects.create(
        account=account,
        channel="whatsapp",
        provider_message_id="SM" + "f" * 32,
        from_number=PHONE,
        body="Hello",
    )


def _send_error(account: ChannelAccount, message: OutboundMessage) -> TransportError:
    with pytest.raises(TransportError) as caught, get_backend(account) as backend:
        backend.send(message)
    return caught.value


class TestSms:
    def test_an_accepted_message_keeps_its_sid_and_twilio_got_everything(
        self, sms, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _deliver(_sms(django_capture_on_commit_callbacks))
        [sid] = fake.messages
        assert sid.startswith("SM")
        assert (message.status, message.provider_message_id) == (Status.SENT, sid)
        [request] = fake.requests
        assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
        assert request.auth == (SID, TOKEN)
        callback = "http://testserver" + reverse(
            "channels_out:status-webhook", kwargs={"account_id": sms.pk}
        )
        assert request.data == {
            "To": PHONE,
            "From": SMS_FROM,
            "Body": "Your room 214 is ready.",
            "StatusCallback": f"{callback}?m={message.pk}",
        }

    def test_a_messaging_service_sender_goes_as_messaging_service_sid(
        self, fake, credits, no_quiet_hours, django_capture_on_commit_callbacks
    ) -> None:
        twilio_account(fake, "sms", sender=MESSAGING_SERVICE)
        message = _deliver(_sms(django_capture_on_commit_callbacks))
        assert message.status == Status.SENT
        data = fake.requests[0].data
        assert data["MessagingServiceSid"] == MESSAGING_SERVICE
        assert "From" not in data

    def test_rate_limiting_is_retried_until_it_goes_exactly_once(
        self, sms, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _sms(django_capture_on_commit_callbacks)
        fake.script(*[TwilioOutcome.rate_limited()] * 3)
        message = _deliver(message)
        assert (message.status, message.provider_code) == (Status.QUEUED, "20429")
        for _ in range(3):
            message = _retry_now(message)
        assert (message.status, message.attempts) == (Status.SENT, 4)
        assert len(fake.requests) == 4
        assert len(fake.messages) == 1
        assert message.provider_message_id in fake.messages

    def test_an_answer_later_than_the_timeout_is_unknown_and_never_sent_again(
        self, sms, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _sms(django_capture_on_commit_callbacks)
        fake.script(TwilioOutcome.delay(2.5))
        message = _deliver(message)
        assert (message.status, message.attempts) == (Status.UNKNOWN, 1)
        found = sweep(now=timezone.now() + dt.timedelta(hours=1))
        assert message.pk not in found["due"]
        deliver([*found["due"], message.pk])
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.UNKNOWN, 1)
        assert len(fake.messages) == 1  # it did reach Twilio: a blind resend would send it twice

    def test_an_invalid_number_fails_with_twilios_code_and_releases_the_credits(
        self, sms, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _sms(django_capture_on_commit_callbacks)
        assert available_credits() < Decimal(100)
        fake.script(TwilioOutcome.invalid_to())
        message = _deliver(message)
        assert (message.status, message.provider_code) == (Status.FAILED, "21211")
        assert "not a valid phone number" in message.reason
        assert available_credits() == Decimal(100)
        assert LedgerEntry.objects.filter(message=message, kind="release").count() == 1
        assert fake.messages == {}

    @pytest.mark.parametrize(
        ("outcome", "code"),
        [
            (TwilioOutcome.unsubscribed(), "21610"),
            (TwilioOutcome.region_not_enabled(), "21408"),
            (TwilioOutcome.error(401, 20003), "20003"),
        ],
        ids=["unsubscribed", "region", "bad-credentials"],
    )
    def test_other_client_errors_are_permanent(
        self, sms, fake, django_capture_on_commit_callbacks, outcome, code: str
    ) -> None:
        message = _sms(django_capture_on_commit_callbacks)
        fake.script(outcome)
        error = _send_error(sms, message)
        assert (kind_of(error), error.code) == ("permanent", code)

    def test_a_429_is_transient(self, sms, fake, django_capture_on_commit_callbacks) -> None:
        message = _sms(django_capture_on_commit_callbacks)
        fake.script(TwilioOutcome.rate_limited())
        error = _send_error(sms, message)
        assert (kind_of(error), error.code, error.retry_after) == ("transient", "20429", None)

    def test_a_429_with_retry_after_waits_that_long(
        self, credits, no_quiet_hours, settings, django_capture_on_commit_callbacks
    ) -> None:
        class SaysWhenToRetry(FakeTwilio):
            def route(self, req: RecordedRequest) -> Response:
                answer = super().route(req)
                if answer.status == 429:
                    answer.headers["Retry-After"] = "120"
                return answer

        settings.PUBLIC_BASE_URL = "http://testserver"
        with SaysWhenToRetry(SID, TOKEN) as server:
            account = twilio_account(server, "sms")
            message = _sms(django_capture_on_commit_callbacks)
            server.script(TwilioOutcome.rate_limited())
            assert _send_error(account, message).retry_after == 120.0
            server.script(TwilioOutcome.rate_limited())
            assert deliver([message.pk])[message.pk] == 120.0
        message.refresh_from_db()
        assert message.not_before is not None
        assert message.not_before > timezone.now() + dt.timedelta(seconds=100)

    @pytest.mark.parametrize(
        "outcome",
        [
            TwilioOutcome.server_error(),
            TwilioOutcome.service_unavailable(),
            TwilioOutcome.disconnect(),
        ],
        ids=["500", "503", "connection-dropped"],
    )
    def test_a_server_error_or_a_dropped_connection_is_ambiguous(
        self, sms, fake, django_capture_on_commit_callbacks, outcome
    ) -> None:
        message = _sms(django_capture_on_commit_callbacks)
        fake.script(outcome)
        assert kind_of(_send_error(sms, message)) == "ambiguous"

    def test_a_refused_connection_is_transient(
        self, fake, credits, no_quiet_hours, django_capture_on_commit_callbacks
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        account = twilio_account(fake, "sms", api_base_url=f"http://127.0.0.1:{closed}")
        message = _sms(django_capture_on_commit_callbacks)
        error = _send_error(account, message)
        assert (kind_of(error), error.code) == ("transient", "connection")
        assert TOKEN not in error.message


class TestWhatsApp:
    def test_a_template_goes_with_its_content_sid_and_variables(
        self, whatsapp, fake, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(
            django_capture_on_commit_callbacks,
            Step(
                channel="whatsapp",
                template_id="HX" + "b" * 32,
                template_variables={"1": "Ayşe", "2": "214"},
            ),
        )
        message = _deliver(message)
        assert message.status == Status.SENT
        data = fake.requests[0].data
        assert (data["To"], data["From"]) == (f"whatsapp:{PHONE}", f"whatsapp:{WHATSAPP_FROM}")
        assert data["ContentSid"] == "HX" + "b" * 32
        assert json.loads(data["ContentVariables"]) == {"1": "Ayşe", "2": "214"}
        assert "Body" not in data

    def test_free_text_inside_the_window_goes_as_a_body(
        self, whatsapp, fake, django_capture_on_commit_callbacks
    ) -> None:
        _open_whatsapp_window(whatsapp)
        message = _deliver(
            _queue(
                django_capture_on_commit_callbacks,
                Step(channel="whatsapp", text="Yes, 7 pm works."),
            )
        )
        assert message.status == Status.SENT
        data = fake.requests[0].data
        assert (data["To"], data["Body"]) == (f"whatsapp:{PHONE}", "Yes, 7 pm works.")
        assert "ContentSid" not in data

    def test_outside_the_window_error_63016_fails_the_message(
        self, whatsapp, fake, django_capture_on_commit_callbacks
    ) -> None:
        _open_whatsapp_window(whatsapp)
        message = _queue(
            django_capture_on_commit_callbacks, Step(channel="whatsapp", text="Yes, 7 pm works.")
        )
        fake.script(TwilioOutcome.error(400, 63016))
        message = _deliver(message)
        assert (message.status, message.provider_code) == (Status.FAILED, "63016")

    def test_63016_reported_by_status_callback_fails_the_message(
        self, whatsapp, fake, client, django_capture_on_commit_callbacks
    ) -> None:
        _open_whatsapp_window(whatsapp)
        message = _deliver(
            _queue(
                django_capture_on_commit_callbacks,
                Step(channel="whatsapp", text="Yes, 7 pm works."),
            )
        )
        path = (
            reverse("channels_out:status-webhook", kwargs={"account_id": whatsapp.pk})
            + f"?m={message.pk}"
        )
        params = status_callback_params(fake.message(message.provider_message_id), "failed", 63016)
        headers, body = fake.signed_status_callback(f"http://testserver{path}", params)
        answer = client.post(
            path,
            data=body,
            content_type=headers["Content-Type"],
            headers={"X-Twilio-Signature": headers["X-Twilio-Signature"]},
        )
        assert answer.status_code == 204
        message.refresh_from_db()
        assert (message.status, message.provider_code) == (Status.FAILED, "63016")
        assert "24-hour window" in message.reason


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), ("", None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_is_read_as_seconds_or_a_date(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(value) == seconds


@pytest.mark.parametrize(
    ("sender", "ok"),
    [
        ("MG" + "0123456789abcdef" * 2, True),
        ("LYKIA BAY", True),
        ("+15005550006", True),
        ("MGM HOTEL LTD", False),
    ],
)
def test_a_twilio_sms_account_takes_a_number_an_alphanumeric_id_or_a_messaging_service(
    db, sender: str, ok: bool
) -> None:
    from django.core.exceptions import ValidationError

    from channels_out.models import ChannelAccount

    account = ChannelAccount(
        channel="sms", backend="twilio_sms", name="T", account_id="AC1", secret="t", sender=sender
    )
    if ok:
        account.full_clean()
    else:
        with pytest.raises(ValidationError) as caught:
            account.full_clean()
        assert "sender" in caught.value.message_dict
