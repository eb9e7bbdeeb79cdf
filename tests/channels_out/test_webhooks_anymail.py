"""ESP tracking webhooks through anymail's own views (E1, E2): signed as each ESP documents it.

- Mailgun: the JSON webhook with its ``signature`` block, HMAC-SHA256 of timestamp + token
  with the webhook signing key (https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks);
- Postmark: HTTP basic auth in the webhook URL, the bounce/open/spam-complaint JSON
  (https://postmarkapp.com/developer/webhooks/webhooks-overview);
- SendGrid: the signed event webhook, ECDSA (P-256, SHA-256) over timestamp + body, the
  public key's base64 DER as the verification key
  (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features).

Each event lands on its message as a delivery event; statuses follow ours; a hard bounce
suppresses the address and the next message to it is skipped; a complaint opts the guest out.
A request without the right signature is refused (403) and changes nothing; a malformed one is
never a server error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend  # noqa: F401 - see conftest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.test import Client
from django.urls import reverse

from channels_out.backends import backend_class
from channels_out.models import (
    ChannelAccount,
    DeliveryEvent,
    Engagement,
    OutboundMessage,
    SkipReason,
    Status,
    Suppression,
)
from channels_out.services import Step, message_send
from guests.models import ConsentPurpose, ConsentRecord, ConsentSource
from guests.services import guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

MAILGUN_KEY = "mailgun-signing-key-0123"
POSTMARK_AUTH = "postmark:hook-pass-0123"
SENDGRID_PRIVATE = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(
    SENDGRID_PRIVATE.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


@pytest.fixture(autouse=True)
def anymail_test_backend(monkeypatch) -> None:
    for name in ("anymail_mailgun", "anymail_postmark", "anymail_sendgrid"):
        monkeypatch.setattr(
            backend_class(name), "connection_path", "anymail.backends.test.EmailBackend"
        )
    mail.outbox = []


def make_account(backend: str, webhook_secret: str) -> ChannelAccount:
    return ChannelAccount.objects.create(
        channel="email",
        backend=backend,
        name=backend,
        sender="hello@lykiabay.example",
        secret="api-key-0123",
        webhook_secret=webhook_secret,
        is_default=True,
        rate_per_second=1000,
    )


def sent_mail(account: ChannelAccount, deliver_queued, *, email: str = "ayse@example.com"):
    guest = GuestFactory(email=email)
    guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel="email",
        granted=True,
        source=ConsentSource.STAFF,
    )
    message = message_send(
        steps=Step(channel="email", subject="Spring offer", html="<p>Spring!</p>"),
        purpose=ConsentPurpose.MARKETING,
        guest=guest,
        dedupe_key=f"spring:{email}",
    )
    deliver_queued()
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def status_url(account: ChannelAccount) -> str:
    return reverse("channels_out:status-webhook", kwargs={"account_id": account.pk})


# --- Mailgun ----------------------------------------------------------------------------------


def mailgun_post(account: ChannelAccount, event_data: dict[str, Any], *, key: str = MAILGUN_KEY):
    timestamp, token = str(int(time.time())), "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    body = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {"timestamp": time.time(), "id": "CPgfbmQMTCKtHW6uIWtuVe", **event_data},
    }
    return Client().post(status_url(account), json.dumps(body), content_type="application/json")


def mailgun_event(message: OutboundMessage, event: str, **extra: Any) -> dict[str, Any]:
    return {
        "event": event,
        "recipient": message.to,
        "message": {"headers": {"message-id": "20130503182626.18666.16540@lykiabay.example"}},
        "user-variables": {"crm_message": str(message.pk)},
        **extra,
    }


@pytest.fixture
def mailgun(no_quiet_hours) -> ChannelAccount:
    return make_account("anymail_mailgun", MAILGUN_KEY)


def test_mailgun_delivered_moves_the_message_and_is_kept_as_an_event(
    mailgun, deliver_queued
) -> None:
    message = sent_mail(mailgun, deliver_queued)

    response = mailgun_post(
        mailgun,
        mailgun_event(message, "delivered", **{"delivery-status": {"code": 250, "message": "OK"}}),
    )

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    event = DeliveryEvent.objects.filter(message=message, source="webhook").get()
    assert (event.status, event.provider_status) == (Status.DELIVERED, "delivered")


def test_a_hard_bounce_suppresses_the_address_and_the_next_mail_is_skipped(
    mailgun, deliver_queued
) -> None:
    message = sent_mail(mailgun, deliver_queued)

    mailgun_post(
        mailgun,
        mailgun_event(
            message,
            "failed",
            severity="permanent",
            reason="bounce",
            **{
                "delivery-status": {
                    "code": 550,
                    "message": "5.1.1 The email account that you tried to reach does not exist",
                }
            },
        ),
    )

    message.refresh_from_db()
    assert message.status == Status.UNDELIVERED
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.provider_code) == (
        "ayse@example.com",
        "hard_bounce",
        "5.1.1",
    )
    assert suppression.message == message

    again = message_send(
        steps=Step(channel="email", subject="Summer offer", html="<p>Summer!</p>"),
        purpose=ConsentPurpose.MARKETING,
        guest=message.guest,
    )
    assert (again.status, again.skip_reason) == (Status.SKIPPED, SkipReason.SUPPRESSED)
    assert again.reason == "ayse@example.com"  # the label says why, the detail which address
    assert again.skip_text == "Address suppressed: ayse@example.com"
    deliver_queued()
    assert len(mail.outbox) == 1  # the bounced address was never mailed again


def test_soft_bounces_suppress_only_after_the_limit_in_a_row(mailgun, deliver_queued) -> None:
    deferred = {
        "severity": "temporary",
        "reason": "generic",
        "delivery-status": {"code": 452, "message": "4.2.2 Mailbox full"},
    }
    first = sent_mail(mailgun, deliver_queued)
    mailgun_post(mailgun, mailgun_event(first, "failed", **deferred))
    mailgun_post(mailgun, mailgun_event(first, "failed", **deferred))  # the same message again
    assert not Suppression.objects.exists()
    # A delivery in between starts the run again.
    second = sent_mail(mailgun, deliver_queued, email="AYSE@example.com")
    mailgun_post(mailgun, mailgun_event(second, "delivered"))
    for n in range(3):
        message = message_send(
            steps=Step(channel="email", subject="News", html="<p>News</p>"),
            guest=first.guest,
            dedupe_key=f"news:{n}",
        )
        deliver_queued()
        assert not Suppression.objects.exists()
        mailgun_post(mailgun, mailgun_event(message, "failed", **deferred))

    assert Suppression.objects.get().reason == "soft_bounces"


def test_a_complaint_opts_the_guest_out_of_marketing_email_at_once(mailgun, deliver_queued) -> None:
    message = sent_mail(mailgun, deliver_queued)

    mailgun_post(mailgun, mailgun_event(message, "complained"))
    mailgun_post(mailgun, mailgun_event(message, "complained"))  # a repeated event

    record = ConsentRecord.objects.filter(guest=message.guest, source="complaint").get()
    assert (record.purpose, record.channel, record.granted) == ("marketing", "email", False)
    message.refresh_from_db()
    assert message.complained_at is not None
    later = message_send(
        steps=Step(channel="email", subject="Again", html="<p>x</p>"),
        purpose=ConsentPurpose.MARKETING,
        guest=message.guest,
    )
    assert later.skip_reason == SkipReason.OPTED_OUT


def test_an_esp_open_soon_after_delivery_is_a_scanner_and_a_later_one_a_human(
    mailgun, deliver_queued, settings
) -> None:
    settings.SCANNER_PREFETCH_SECONDS = 3600  # everything within the hour is a pre-fetch
    message = sent_mail(mailgun, deliver_queued)
    agent = "Mozilla/5.0 (Windows NT 10.0) Thunderbird/115.0"
    mailgun_post(
        mailgun, mailgun_event(message, "opened", **{"client-info": {"user-agent": agent}})
    )
    message.refresh_from_db()
    assert message.opened_at is None
    settings.SCANNER_PREFETCH_SECONDS = 0
    mailgun_post(
        mailgun,
        mailgun_event(
            message,
            "clicked",
            url="https://offers.example.com/spring",
            **{"client-info": {"user-agent": agent}},
        ),
    )

    message.refresh_from_db()
    assert message.opened_at is not None and message.clicked_at is not None
    assert list(Engagement.objects.values_list("kind", "human", "source")) == [
        ("open", False, "esp"),
        ("click", True, "esp"),
    ]


def test_a_wrong_mailgun_signature_is_refused_and_changes_nothing(mailgun, deliver_queued) -> None:
    message = sent_mail(mailgun, deliver_queued)

    response = mailgun_post(mailgun, mailgun_event(message, "delivered"), key="not-the-key")

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert not DeliveryEvent.objects.filter(source="webhook").exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('{"signature": "nope"}', "application/json"),
        ("[]", "application/json"),
        ("token=x&timestamp=1", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
    ],
)
def test_malformed_or_unsigned_webhooks_never_cause_a_server_error(
    mailgun, body, content_type
) -> None:
    client = Client(raise_request_exception=False)
    response = client.post(status_url(mailgun), body, content_type=content_type)
    assert response.status_code in (400, 403)


# --- Postmark ---------------------------------------------------------------------------------


@pytest.fixture
def postmark(no_quiet_hours) -> ChannelAccount:
    return make_account("anymail_postmark", POSTMARK_AUTH)


def postmark_post(account: ChannelAccount, payload: dict[str, Any], auth: str = POSTMARK_AUTH):
    header = "Basic " + base64.b64encode(auth.encode()).decode()
    return Client().post(
        status_url(account),
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=header,
    )


def test_a_postmark_hard_bounce_suppresses_and_a_spam_complaint_opts_out(
    postmark, deliver_queued
) -> None:
    message = sent_mail(postmark, deliver_queued)
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": message.to,
        "BouncedAt": "2026-12-04T08:33:54.9070259Z",
        "Metadata": {"crm_message": str(message.pk)},
    }

    assert postmark_post(postmark, bounce).status_code == 204

    message.refresh_from_db()
    assert message.status == Status.UNDELIVERED
    assert Suppression.objects.get().provider_code == "550"
    complaint = {
        **bounce,
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Description": "",
        "Details": "",
    }
    assert postmark_post(postmark, complaint).status_code == 204
    assert ConsentRecord.objects.filter(guest=message.guest, source="complaint").count() == 1


def test_postmark_without_the_right_basic_auth_is_refused(postmark, deliver_queued) -> None:
    message = sent_mail(postmark, deliver_queued)
    delivery = {
        "RecordType": "Delivery",
        "MessageID": "883953f4",
        "Recipient": message.to,
        "DeliveredAt": "2026-12-04T08:33:54Z",
        "Metadata": {"crm_message": str(message.pk)},
    }
    assert postmark_post(postmark, delivery, auth="postmark:guess").status_code == 403
    unsigned = Client().post(
        status_url(postmark), json.dumps(delivery), content_type="application/json"
    )
    assert unsigned.status_code == 403
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_an_esp_account_without_a_webhook_secret_takes_no_webhooks(no_quiet_hours) -> None:
    account = make_account("anymail_postmark", "")
    response = Client().post(status_url(account), "{}", content_type="application/json")
    assert response.status_code == 403


# --- SendGrid ---------------------------------------------------------------------------------


@pytest.fixture
def sendgrid(no_quiet_hours) -> ChannelAccount:
    return make_account("anymail_sendgrid", SENDGRID_PUBLIC)


def sendgrid_post(account: ChannelAccount, events: list[dict[str, Any]], *, key=SENDGRID_PRIVATE):
    body = json.dumps(events).encode()
    timestamp = str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return Client().post(
        status_url(account),
        body,
        content_type="application/json",
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=base64.b64encode(signature).decode(),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
    )


def test_sendgrid_signed_events_deliver_and_count_a_click(
    sendgrid, deliver_queued, settings
) -> None:
    settings.SCANNER_PREFETCH_SECONDS = 0
    message = sent_mail(sendgrid, deliver_queued)
    common = {"email": message.to, "timestamp": int(time.time()), "crm_message": str(message.pk)}
    events = [
        {**common, "event": "delivered", "sg_event_id": "e1", "response": "250 OK"},
        {
            **common,
            "event": "click",
            "sg_event_id": "e2",
            "url": "https://offers.example.com/spring",
            "useragent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148",
        },
    ]

    assert sendgrid_post(sendgrid, events).status_code == 204

    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert message.clicked_at is not None
    assert Engagement.objects.get().url == "https://offers.example.com/spring"


def test_sendgrid_events_signed_with_another_key_are_refused(sendgrid, deliver_queued) -> None:
    message = sent_mail(sendgrid, deliver_queued)
    other = ec.generate_private_key(ec.SECP256R1())
    events = [
        {"email": message.to, "event": "delivered", "timestamp": 1, "crm_message": str(message.pk)}
    ]
    assert sendgrid_post(sendgrid, events, key=other).status_code == 403
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_a_signed_but_unreadable_mailgun_event_is_a_bad_request_not_an_error(mailgun) -> None:
    timestamp, token = str(int(time.time())), "b" * 50
    signature = hmac.new(
        MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    body = {"signature": {"timestamp": timestamp, "token": token, "signature": signature}}
    client = Client(raise_request_exception=False)
    response = client.post(status_url(mailgun), json.dumps(body), content_type="application/json")
    assert response.status_code == 400


def test_a_message_queued_before_the_address_bounced_is_skipped_when_it_would_go(
    mailgun, deliver_queued
) -> None:
    guest = GuestFactory(email="late@example.com")
    queued = message_send(
        steps=Step(channel="email", subject="Your stay", html="<p>Welcome</p>"), guest=guest
    )
    assert queued.status == Status.QUEUED
    Suppression.objects.create(address="late@example.com", reason="hard_bounce")

    deliver_queued()

    queued.refresh_from_db()
    assert (queued.status, queued.skip_reason) == (Status.SKIPPED, SkipReason.SUPPRESSED)
    assert mail.outbox == []


def test_a_postmark_inbound_email_is_recorded_for_the_guest_who_sent_it(postmark) -> None:
    from channels_out.models import InboundMessage

    guest = GuestFactory(email="ayse@example.com")
    payload = {
        "FromFull": {"Email": "Ayse@Example.com", "Name": "Ayşe"},
        "ToFull": [{"Email": "hello@lykiabay.example", "Name": ""}],
        "Subject": "Late arrival",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "TextBody": "We arrive at midnight.",
        "Headers": [{"Name": "Message-ID", "Value": "<abc@example.com>"}],
        "Date": "Fri, 4 Dec 2026 09:30:00 +0000",
    }
    header = "Basic " + base64.b64encode(POSTMARK_AUTH.encode()).decode()
    url = reverse("channels_out:inbound-webhook", kwargs={"account_id": postmark.pk})
    response = Client().post(
        url, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=header
    )

    assert response.status_code == 204
    inbound = InboundMessage.objects.get()
    assert (inbound.channel, inbound.guest, inbound.body) == (
        "email",
        guest,
        "We arrive at midnight.",
    )
    unsigned = Client().post(url, json.dumps(payload), content_type="application/json")
    assert unsigned.status_code == 403
