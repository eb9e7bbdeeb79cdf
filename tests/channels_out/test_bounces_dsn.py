"""Asynchronous SMTP bounces (E2): RFC 3464 reports matched by the VERP return path."""

from __future__ import annotations

import pytest

from channels_out.models import DeliveryEvent, OutboundMessage, SoftBounceRun, Status, Suppression
from channels_out.services import Step, message_send
from channels_out.services.bounces import delivery_report_receive, read_verp, verp_address
from tests.factories import GuestFactory
from tests.fakes.dsn import build_delivery_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(accounts, deliver_queued) -> OutboundMessage:
    message = message_send(
        steps=Step(channel="email", subject="Welcome", text="Your room is ready."),
        guest=GuestFactory(email="Ayse@Example.com"),
    )
    deliver_queued()
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def test_a_permanent_failure_is_a_hard_bounce_that_suppresses_the_address(sent, accounts) -> None:
    report = build_delivery_report(
        to=verp_address(sent, accounts["email"]),
        recipient=sent.to,
        action="failed",
        status="5.1.1",
        diagnostic="550 5.1.1 <ayse@example.com>: Recipient address rejected: User unknown",
    )

    assert delivery_report_receive(raw=report) is True

    sent.refresh_from_db()
    assert sent.status == Status.UNDELIVERED
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.provider_code) == ("ayse@example.com", "5.1.1")
    assert DeliveryEvent.objects.filter(message=sent, provider_status="dsn failed").exists()


def test_a_report_whose_words_hold_a_nul_is_applied_without_it(sent, accounts) -> None:
    report = build_delivery_report(
        to=verp_address(sent, accounts["email"]),
        recipient=sent.to,
        action="failed",
        status="5.1.1",
        diagnostic="550 5.1.1 User\x00 unknown",
    )

    assert delivery_report_receive(raw=report) is True

    sent.refresh_from_db()
    assert sent.status == Status.UNDELIVERED
    event = DeliveryEvent.objects.get(message=sent, provider_status="dsn failed")
    stored = f"{event.description} {event.detail} {event.payload}"
    assert "\x00" not in stored and "User unknown" in stored


def test_a_delay_is_a_soft_bounce_and_moves_no_status(sent, accounts) -> None:
    report = build_delivery_report(
        to=verp_address(sent, accounts["email"]),
        recipient=sent.to,
        action="delayed",
        status="4.2.2",
        diagnostic="452 4.2.2 Mailbox full",
    )

    assert delivery_report_receive(raw=report) is True

    sent.refresh_from_db()
    assert sent.status == Status.SENT
    assert SoftBounceRun.objects.get().count == 1
    assert not Suppression.objects.exists()


def test_a_forged_return_path_changes_nothing(sent, accounts) -> None:
    address = verp_address(sent, accounts["email"])
    forged = address.replace(address.split("-")[-1].split("@")[0], "0123456789")
    assert read_verp(forged) is None
    report = build_delivery_report(
        to=forged, recipient=sent.to, action="failed", status="5.1.1", diagnostic="550 unknown"
    )

    assert delivery_report_receive(raw=report) is False
    sent.refresh_from_db()
    assert sent.status == Status.SENT and not Suppression.objects.exists()


def test_without_the_return_path_the_returned_message_id_finds_the_message(sent) -> None:
    OutboundMessage.objects.filter(pk=sent.pk).update(provider_message_id="<abc@lykiabay>")
    report = build_delivery_report(
        to="hotel@example.com",
        recipient=sent.to,
        action="failed",
        status="5.2.1",
        diagnostic="550 5.2.1 mailbox disabled",
        original_id="<abc@lykiabay>",
    )

    assert delivery_report_receive(raw=report) is True
    assert Suppression.objects.get().address == "ayse@example.com"


def test_mail_that_is_no_delivery_report_is_left_alone(sent) -> None:
    raw = b"From: ayse@example.com\r\nTo: hotel@example.com\r\nSubject: Re: Welcome\r\n\r\nThanks!\r\n"
    assert delivery_report_receive(raw=raw) is False


def test_the_mailbox_poller_applies_a_bounce_report_it_reads(sent, accounts) -> None:
    """The inbox's IMAP reader (a real imaplib session against a local server) reads the
    bounce mailbox too: a report for one of ours suppresses, a reply is still a reply."""
    from channels_out.models import ReplyMailbox
    from channels_out.services.mailboxes import mailbox_poll
    from tests.fakes.imap_server import running_imap_server

    report = build_delivery_report(
        to=verp_address(sent, accounts["email"]),
        recipient=sent.to,
        action="failed",
        status="5.1.1",
        diagnostic="550 5.1.1 User unknown",
    )
    with running_imap_server(user="bounces", password="pw") as server:
        server.deliver(report)
        mailbox = ReplyMailbox.objects.create(
            account=accounts["email"],
            host="127.0.0.1",
            port=server.port,
            use_ssl=False,
            username="bounces",
            password="pw",
            timeout_seconds=5,
        )
        assert mailbox_poll(mailbox=mailbox) == 1

    sent.refresh_from_db()
    assert sent.status == Status.UNDELIVERED
    assert Suppression.objects.get().address == "ayse@example.com"
