"""What the sender layer and the campaigns do with the portal's links (P3), end to end.

channels_out adds the portal's unsubscribe headers (``interfaces.portal.links``, reached through the
``guests.links`` registry) to marketing e-mail and the account's
opt-out hint to marketing SMS; ``campaigns.services.compose.links_for`` passes the guest's links
to the templates.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.test import Client

from channels_out.models import ChannelAccount, OutboundMessage
from channels_out.services import Step, message_send
from guests.models import Guest
from guests.selectors import consent_current
from guests.services import guest_record_consent
from interfaces.portal import links
from tests.factories import GuestFactory
from tests.fakes.smtp_server import FakeSmtpServer, running_smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def mail_account(smtp: FakeSmtpServer, no_quiet_hours) -> ChannelAccount:
    return ChannelAccount.objects.create(
        channel="email",
        backend="smtp",
        name="Hotel mail",
        host="127.0.0.1",
        port=smtp.port,
        use_tls=False,
        sender="news@lykiabay.example",
        sender_name="Lykia Bay",
        timeout_seconds=2,
        is_default=True,
        rate_per_second=1000,
    )


@pytest.fixture
def subscriber(db) -> Guest:
    guest = GuestFactory(email="ayse@example.com", language="tr")
    for channel in ("email", "sms"):
        guest_record_consent(
            guest=guest, purpose="marketing", channel=channel, granted=True, source="staff"
        )
    return guest


def _send_email(guest: Guest, purpose: str, capture) -> OutboundMessage:
    with capture(execute=True):
        message = message_send(
            steps=Step(
                channel="email", subject="Spring offer", text="Book now", html="<p>Book now</p>"
            ),
            guest=guest,
            purpose=purpose,
        )
    message.refresh_from_db()
    assert message.status == "sent", message.reason
    return message


def test_a_marketing_email_arrives_with_one_click_unsubscribe_headers(
    subscriber, mail_account, smtp, django_capture_on_commit_callbacks
) -> None:
    _send_email(subscriber, "marketing", django_capture_on_commit_callbacks)
    [received] = smtp.received
    expected = links.unsubscribe_headers(subscriber)
    # A long header may be folded onto the next line (RFC 5322): compare the unfolded value.
    assert " ".join(received.message["List-Unsubscribe"].split()) == expected["List-Unsubscribe"]
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # and the address in it works: a mailbox provider POSTs List-Unsubscribe-Post's pair as
    # the body (RFC 8058), and the guest is opted out
    url = received.message["List-Unsubscribe"].strip().strip("<>").split(">")[0]
    one_click = Client(enforce_csrf_checks=True).post(
        urlsplit(url).path,
        data=received.message["List-Unsubscribe-Post"],
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    assert consent_current(subscriber)[("marketing", "email")].granted is False


def test_a_service_email_carries_no_unsubscribe_headers(
    subscriber, mail_account, smtp, django_capture_on_commit_callbacks
) -> None:
    _send_email(subscriber, "service", django_capture_on_commit_callbacks)
    [received] = smtp.received
    assert received.message["List-Unsubscribe"] is None
    assert received.message["List-Unsubscribe-Post"] is None


def test_a_marketing_sms_ends_with_the_accounts_opt_out_hint(subscriber, accounts, top_up) -> None:
    top_up(10)
    accounts["sms"].opt_out_hint = "STOP: reply STOP"
    accounts["sms"].save()
    message = message_send(
        steps=Step(channel="sms", text="Spring offer: 20% off"),
        guest=subscriber,
        purpose="marketing",
    )
    assert message.body.endswith("STOP: reply STOP")


def test_a_service_sms_carries_no_opt_out_hint(subscriber, accounts, top_up) -> None:
    top_up(10)
    accounts["sms"].opt_out_hint = "STOP: reply STOP"
    accounts["sms"].save()
    message = message_send(steps=Step(channel="sms", text="Your room is ready"), guest=subscriber)
    assert "STOP" not in message.body


def test_campaign_messages_get_the_guests_unsubscribe_and_portal_links(subscriber) -> None:
    from campaigns.models import Campaign
    from campaigns.services.compose import links_for

    campaign = Campaign(name="Spring offer", purpose="marketing")
    assert links_for(campaign, subscriber, "email") == {
        "unsubscribe": links.unsubscribe_url(subscriber, "email"),
        "portal": links.portal_url(),
    }
