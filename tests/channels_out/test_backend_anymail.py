"""E-mail through an ESP with django-anymail (E1, S2): sent through anymail's own test backend.

The ESP's HTTP API is the process boundary: each account's backend opens anymail's test
``EmailBackend`` in place of the ESP's (``connection_path``), which records what anymail
would have posted (``anymail_test_params``) in ``django.core.mail.outbox``; failures are the
exceptions anymail raises for the ESP's answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail
from django.core.exceptions import ValidationError

from channels_out.backends import backend_class
from channels_out.backends.anymail import MESSAGE_REF, AnymailBackend
from channels_out.models import ChannelAccount, OutboundMessage, Status
from channels_out.services import Step, message_send
from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

ESPS = [
    "anymail_amazon_ses",
    "anymail_mailgun",
    "anymail_sendgrid",
    "anymail_postmark",
    "anymail_brevo",
]
TEST_BACKEND = "anymail.backends.test.EmailBackend"


class _FailingBackend(AnymailTestBackend):
    """anymail's test backend answering with the next scripted ESP error."""

    errors: list[Exception] = []

    def post_to_esp(self, payload: Any, message: Any) -> Any:
        if self.errors:
            raise self.errors.pop(0)
        return super().post_to_esp(payload, message)


@pytest.fixture(autouse=True)
def anymail_test_backend(monkeypatch) -> Iterator[None]:
    for name in ESPS:
        monkeypatch.setattr(backend_class(name), "connection_path", TEST_BACKEND)
    mail.outbox = []
    _FailingBackend.errors = []
    yield


def esp_account(backend: str = "anymail_mailgun", **fields: Any) -> ChannelAccount:
    values: dict[str, Any] = {
        "channel": "email",
        "backend": backend,
        "name": f"{backend} account",
        "sender": "hello@lykiabay.example",
        "sender_name": "Hotel Lykia Bay",
        "account_id": "AKIAEXAMPLE",
        "region": "eu-west-1",
        "secret": "key-0123456789",
        "webhook_secret": "whsec-0123456789",
        "is_default": True,
        "rate_per_second": 1000,
    }
    values.update(fields)
    account = ChannelAccount(**values)
    account.full_clean()
    account.save()
    return account


def marketing_mail(guest=None, **kwargs: Any) -> OutboundMessage:
    guest = guest or GuestFactory(email="ayse@example.com")
    guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel="email",
        granted=True,
        source=ConsentSource.STAFF,
    )
    return message_send(
        steps=Step(
            channel="email",
            subject="Spring at Lykia Bay",
            text="See our spring offer.",
            html='<p>See <a href="https://offers.example.com/spring?a=1&amp;b=2">our offer</a>.</p>',
        ),
        purpose=ConsentPurpose.MARKETING,
        guest=guest,
        **kwargs,
    )


@pytest.mark.parametrize("backend", ESPS)
def test_each_esp_sends_through_anymail_and_the_row_keeps_its_id(
    backend, no_quiet_hours, deliver_queued
) -> None:
    account = esp_account(backend)
    message = marketing_mail()

    deliver_queued()

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.account == account
    [sent] = mail.outbox
    assert sent.to == ["ayse@example.com"]
    assert sent.from_email == "Hotel Lykia Bay <hello@lykiabay.example>"
    assert sent.anymail_test_params["metadata"] == {MESSAGE_REF: str(message.pk)}
    # The one-click unsubscribe of every marketing e-mail (P3) goes through the ESP too.
    assert "List-Unsubscribe" in sent.anymail_test_params["extra_headers"]
    # Our Message-ID, so a reply through the ESP threads under the message (the inbox).
    assert sent.anymail_test_params["extra_headers"]["Message-ID"] == message.email_message_id
    assert message.provider_message_id == str(sent.anymail_status.message_id)


def test_the_esp_gets_the_accounts_credentials_not_settings() -> None:
    account = esp_account("anymail_mailgun", api_base_url="https://api.eu.mailgun.net/v3/")
    assert backend_class("anymail_mailgun")(account).connection_options() == {
        "api_key": "key-0123456789",
        "api_url": "https://api.eu.mailgun.net/v3/",
    }
    ses = esp_account("anymail_amazon_ses", name="SES", is_default=False, esp_stream="crm-events")
    options = backend_class("anymail_amazon_ses")(ses).connection_options()
    assert options["session_params"] == {
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": "key-0123456789",
        "region_name": "eu-west-1",
    }
    assert options["configuration_set_name"] == "crm-events"


def test_an_esp_account_without_its_key_is_refused_with_the_field_named() -> None:
    account = ChannelAccount(
        channel="email", backend="anymail_postmark", name="Postmark", sender="a@example.com"
    )
    with pytest.raises(ValidationError) as caught:
        account.full_clean()
    assert "server token" in caught.value.message_dict["secret"][0]
    sms = ChannelAccount(channel="sms", backend="anymail_brevo", name="x", secret="k")
    with pytest.raises(ValidationError) as caught:
        sms.full_clean()
    assert "backend" in caught.value.message_dict


def test_our_tracking_wraps_the_links_and_adds_the_pixel(
    no_quiet_hours, deliver_queued, settings
) -> None:
    settings.PUBLIC_BASE_URL = "https://crm.lykiabay.example"
    esp_account(engagement_tracking="ours")
    message = marketing_mail()
    assert message.tracked

    deliver_queued()

    [sent] = mail.outbox
    html = sent.alternatives[0][0]
    assert "https://crm.lykiabay.example/t/c/" in html
    assert "https://crm.lykiabay.example/t/o/" in html
    assert "offers.example.com" not in html  # inside the signed token only
    assert sent.anymail_test_params["track_clicks"] is False
    assert sent.anymail_test_params["track_opens"] is False


def test_the_esps_own_tracking_is_asked_for_when_the_account_uses_it(
    no_quiet_hours, deliver_queued
) -> None:
    esp_account(engagement_tracking="esp")
    marketing_mail()

    deliver_queued()

    [sent] = mail.outbox
    assert sent.anymail_test_params["track_opens"] is True
    assert sent.anymail_test_params["track_clicks"] is True
    assert "/t/o/" not in sent.alternatives[0][0]


def test_service_mail_and_a_guest_who_refused_analytics_are_not_tracked(
    no_quiet_hours, deliver_queued
) -> None:
    esp_account(engagement_tracking="ours")
    refused = GuestFactory(email="no-tracking@example.com")
    guest_record_consent(
        guest=refused, purpose=ConsentPurpose.ANALYTICS, granted=False, source=ConsentSource.STAFF
    )
    marketing = marketing_mail(guest=refused)
    service = message_send(
        steps=Step(
            channel="email", subject="Your booking", html='<a href="https://x.example/">x</a>'
        ),
        guest=GuestFactory(email="booker@example.com"),
    )

    deliver_queued()

    assert not marketing.tracked and not service.tracked
    for sent in mail.outbox:
        assert "/t/o/" not in sent.alternatives[0][0]
        assert sent.anymail_test_params["track_opens"] is False


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (AnymailAPIError("too many", status_code=429), Status.QUEUED),
        (AnymailAPIError("bad request", status_code=400), Status.FAILED),
        (AnymailAPIError("server error", status_code=502), Status.UNKNOWN),
        (AnymailRecipientsRefused("on the ESP's suppression list"), Status.FAILED),
    ],
    ids=["429-retried", "400-failed", "5xx-unknown", "refused-failed"],
)
def test_esp_answers_are_read_by_the_one_http_rule(
    error, status, monkeypatch, no_quiet_hours, deliver_queued
) -> None:
    monkeypatch.setattr(
        backend_class("anymail_mailgun"),
        "connection_path",
        f"{__name__}._FailingBackend",
    )
    _FailingBackend.errors = [error]
    esp_account()
    message = marketing_mail()

    deliver_queued()

    message.refresh_from_db()
    assert message.status == status


def test_a_connection_that_never_opened_is_retried_not_marked_unknown(monkeypatch) -> None:
    account = esp_account()
    backend = backend_class("anymail_mailgun")(account)
    assert isinstance(backend, AnymailBackend)
    refused = requests.ConnectTimeout("connect timeout")
    error = AnymailAPIError("Error posting to Mailgun")
    error.__cause__ = refused
    transport = backend._api_error(error)
    assert not transport.permanent and not transport.ambiguous
