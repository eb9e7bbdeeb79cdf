"""Guests' e-mail replies reach their conversation: matched by header or reply address,
quoted history stripped, read from an IMAP mailbox (issue 14)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from channels_out.models import InboundMessage, OutboundMessage, ReplyMailbox
from channels_out.services import (
    InboundEmail,
    Step,
    email_reply_receive,
    mailbox_poll,
    message_send,
)
from channels_out.services.email_replies import strip_quoted
from channels_out.services.mailboxes import MailboxError
from interfaces.inbox.models import Conversation
from interfaces.inbox.services import conversation_reply
from tests.fakes.imap_server import running_imap_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(accounts, guest) -> OutboundMessage:
    return message_send(
        steps=Step(channel="email", subject="Your stay", text="Welcome to Lykia Bay"),
        guest=guest,
    )


def reply_to(
    message: OutboundMessage, body: str, *, message_id: str = "<r1@mail.example>"
) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Ayşe Yılmaz <AYSE@example.com>"
    mail["To"] = "hotel@example.com"
    mail["Subject"] = f"Re: {message.subject}"
    mail["Message-ID"] = message_id
    mail["In-Reply-To"] = message.email_message_id
    mail["References"] = message.email_message_id
    mail["Date"] = "Fri, 04 Dec 2026 09:15:00 +0300"
    mail.set_content(body)
    return bytes(mail)


def test_every_e_mail_we_send_has_a_message_id_of_its_own(sent) -> None:
    assert sent.email_message_id.startswith("<")
    assert sent.email_message_id.endswith("@example.com>")


def test_with_a_reply_address_each_e_mail_gets_its_own_reply_to(accounts, guest, settings) -> None:
    settings.EMAIL_REPLY_ADDRESS = "reply@hotel.example"
    message = message_send(
        steps=Step(channel="email", subject="Your stay", text="Hello"), guest=guest
    )
    token = message.email_message_id.strip("<>").partition("@")[0]
    assert message.headers["Reply-To"] == f"reply+{token}@hotel.example"


def test_a_reply_is_matched_by_in_reply_to_and_its_quote_is_stripped(sent, guest) -> None:
    raw = reply_to(
        sent,
        "Can we have a late check-out?\n\nOn Thu, 3 Dec 2026, Hotel wrote:\n> Welcome to Lykia Bay\n",
    )

    record = email_reply_receive(mail=InboundEmail.from_mime(raw))

    assert record is not None
    assert record.in_reply_to == sent
    assert record.guest == guest
    assert record.channel == "email"
    assert record.from_number == "ayse@example.com"
    assert record.body == "Can we have a late check-out?"
    assert record.subject == "Re: Your stay"
    conversation = Conversation.objects.get()
    assert conversation.channel == "email"
    assert conversation.preview == "Can we have a late check-out?"


def test_a_reply_to_the_per_message_address_is_matched_without_headers(
    accounts, guest, settings
) -> None:
    settings.EMAIL_REPLY_ADDRESS = "reply@hotel.example"
    message = message_send(steps=Step(channel="email", subject="Hi", text="Hello"), guest=guest)
    mail = InboundEmail(
        message_id="<x@gmail.example>",
        from_address="someone-else@example.org",
        to=(message.headers["Reply-To"],),
        text="Thanks!",
    )

    record = email_reply_receive(mail=mail)

    assert record is not None and record.in_reply_to == message and record.guest == guest


def test_the_same_reply_twice_is_one_message(sent) -> None:
    raw = reply_to(sent, "Thanks")
    email_reply_receive(mail=InboundEmail.from_mime(raw))
    assert email_reply_receive(mail=InboundEmail.from_mime(raw)) is None
    assert InboundMessage.objects.count() == 1


def test_mail_answering_nothing_of_ours_from_a_stranger_is_not_recorded(accounts) -> None:
    mail = InboundEmail(message_id="<spam@x>", from_address="offers@spam.example", text="Buy")
    assert email_reply_receive(mail=mail) is None
    assert not InboundMessage.objects.exists()


def test_quoted_history_is_stripped_in_the_guests_languages() -> None:
    assert strip_quoted("Tamam\n\n4 Ara 2026 Cum, 09:00 tarihinde Otel şunu yazdı:\n> x") == "Tamam"
    assert strip_quoted("Danke\nAm 04.12.2026 um 09:00 schrieb Hotel:\n> x") == "Danke"
    assert strip_quoted("Спасибо\n\n4 дек. 2026 г., в 9:00, Hotel пишет:\n> x") == "Спасибо"
    assert strip_quoted("Yes\n-----Original Message-----\nFrom: Hotel") == "Yes"
    assert strip_quoted("Yes please\n-- \nAyşe") == "Yes please"


def test_the_answer_to_an_e_mail_threads_under_it(sent, staff, top_up) -> None:
    email_reply_receive(mail=InboundEmail.from_mime(reply_to(sent, "Late check-out?")))

    answer = conversation_reply(
        conversation=Conversation.objects.get(),
        user=staff("Front desk"),
        nonce="0123456789abcdef0123456789abcdef",
        text="Until 14:00, no charge.",
    )

    assert answer.channel == "email"
    assert answer.subject == "Re: Your stay"
    assert answer.headers["In-Reply-To"] == "<r1@mail.example>"


# --- the IMAP poller ---------------------------------------------------------------------------


def _mailbox(accounts, port: int, password: str = "pw") -> ReplyMailbox:
    return ReplyMailbox.objects.create(
        account=accounts["email"],
        host="127.0.0.1",
        port=port,
        use_ssl=False,
        username="replies",
        password=password,
        timeout_seconds=5,
    )


def test_the_poller_reads_new_replies_from_an_imap_mailbox_once(sent, accounts) -> None:
    with running_imap_server(user="replies", password="pw") as server:
        server.deliver(reply_to(sent, "First", message_id="<a@m>"))
        mailbox = _mailbox(accounts, server.port)

        assert mailbox_poll(mailbox=mailbox) == 1
        server.deliver(reply_to(sent, "Second", message_id="<b@m>"))
        assert mailbox_poll(mailbox=mailbox) == 1
        assert mailbox_poll(mailbox=mailbox) == 0  # "2:*" still names message 2: skipped

        assert server.fetched == [1, 2]
        assert any("BODY.PEEK[]" in line for line in server.commands)  # left unread
    assert sorted(InboundMessage.objects.values_list("body", flat=True)) == ["First", "Second"]
    mailbox.refresh_from_db()
    assert (mailbox.last_uid, mailbox.last_error) == (2, "")


def test_a_reply_with_a_nul_is_kept_and_does_not_hold_up_the_mail_after_it(sent, accounts) -> None:
    # PostgreSQL cannot store a NUL: the reply was refused on insert, the poll failed before
    # moving last_uid, and every later reply in the mailbox waited behind it for ever.
    with running_imap_server(user="replies", password="pw") as server:
        server.deliver(reply_to(sent, "Late\x00 check-out?", message_id="<a@m>"))
        server.deliver(reply_to(sent, "Second", message_id="<b@m>"))
        mailbox = _mailbox(accounts, server.port)

        assert mailbox_poll(mailbox=mailbox) == 2

    assert sorted(InboundMessage.objects.values_list("body", flat=True)) == [
        "Late check-out?",
        "Second",
    ]
    mailbox.refresh_from_db()
    assert (mailbox.last_uid, mailbox.last_error) == (2, "")


def test_a_renumbered_mailbox_is_read_again_without_doubles(sent, accounts) -> None:
    with running_imap_server(user="replies", password="pw") as server:
        server.deliver(reply_to(sent, "First", message_id="<a@m>"))
        mailbox = _mailbox(accounts, server.port)
        mailbox_poll(mailbox=mailbox)
        server.uid_validity = 7

        mailbox_poll(mailbox=mailbox)

        assert server.fetched == [1, 1]
    assert InboundMessage.objects.count() == 1


def test_a_wrong_password_is_kept_on_the_mailbox_and_records_nothing(sent, accounts) -> None:
    with running_imap_server(user="replies", password="pw") as server:
        server.deliver(reply_to(sent, "First"))
        mailbox = _mailbox(accounts, server.port, password="wrong")
        with pytest.raises(MailboxError):
            mailbox_poll(mailbox=mailbox)
    mailbox.refresh_from_db()
    assert "Invalid credentials" in mailbox.last_error
    assert not InboundMessage.objects.exists()


# --- replies an ESP posts (django-anymail's inbound webhook) ------------------------------------


def test_a_reply_an_esp_posts_is_matched_and_stripped_the_same_way(no_quiet_hours) -> None:
    import base64
    import json

    from django.test import Client
    from django.urls import reverse

    from channels_out.models import ChannelAccount
    from tests.factories import GuestFactory

    auth = "postmark:hook-pass-0123"
    postmark = ChannelAccount.objects.create(
        channel="email",
        backend="anymail_postmark",
        name="Postmark",
        sender="hello@lykiabay.example",
        secret="api-key-0123",
        webhook_secret=auth,
        is_default=True,
    )
    guest = GuestFactory(email="ayse@example.com")
    ours = message_send(
        steps=Step(channel="email", subject="Your stay", text="Welcome"), guest=guest
    )
    payload = {
        "FromFull": {"Email": "ayse.private@example.org", "Name": "Ayşe"},
        "ToFull": [{"Email": "hello@lykiabay.example", "Name": ""}],
        "Subject": "Re: Your stay",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "TextBody": "We arrive at midnight.\n\nOn Thu, Hotel wrote:\n> Welcome",
        "Headers": [
            {"Name": "Message-ID", "Value": "<from-gmail@example.org>"},
            {"Name": "In-Reply-To", "Value": ours.email_message_id},
        ],
        "Date": "Fri, 4 Dec 2026 09:30:00 +0000",
    }
    url = reverse("channels_out:inbound-webhook", kwargs={"account_id": postmark.pk})
    header = "Basic " + base64.b64encode(auth.encode()).decode()

    for _ in range(2):
        answer = Client().post(
            url, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=header
        )
        assert answer.status_code in (200, 204)

    reply = InboundMessage.objects.get()  # posted twice, recorded once
    assert (reply.guest, reply.in_reply_to, reply.body) == (guest, ours, "We arrive at midnight.")
    assert Conversation.objects.get().guest == guest  # another address, the same guest
