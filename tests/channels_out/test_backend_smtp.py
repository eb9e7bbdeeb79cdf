"""The SMTP backend against a real local SMTP server (aiosmtpd, tests/fakes/smtp_server.py) (S1, S2, S11, R2)."""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import AuthResult

from channels_out.backends import TransportError, get_backend
from channels_out.backends.smtp import html_to_text
from channels_out.dispatch import deliver
from channels_out.models import ChannelAccount, MessagingPolicy, OutboundMessage, Status
from channels_out.services import Step, message_send
from channels_out.services.bounces import read_verp, verp_signature
from channels_out.text import unsealed
from tests.channels_out.outcomes import kind_of
from tests.factories import GuestFactory
from tests.fakes.smtp_server import FakeSmtpServer, running_smtp_server

pytestmark = pytest.mark.django_db

SENDER = "reservations@lykiabay.example"
UNSUBSCRIBE = "<https://lykiabay.example/u/abc123>, <mailto:unsubscribe@lykiabay.example>"
HTML = (
    "<html><head><style>p { color: red }</style><title>Offer</title></head><body>"
    "<h1>Welcome back</h1><p>Your room is&nbsp;ready.<br>See you soon.</p>"
    '<p><a href="https://lykiabay.example/book?x=1&amp;y=2">Book the spa</a></p></body></html>'
)


@pytest.fixture
def server() -> Iterator[FakeSmtpServer]:
    with running_smtp_server() as running:
        yield running


def _account(port: int, **fields) -> ChannelAccount:
    values = {
        "channel": "email",
        "backend": "smtp",
        "name": "Hotel mail",
        "host": "127.0.0.1",
        "port": port,
        "use_tls": False,
        "sender": SENDER,
        "sender_name": "Lykia Bay: Hotel, Spa (Fethiye)",
        "timeout_seconds": 1,
        "is_default": True,
        "rate_per_second": 1000,
    }
    values.update(fields)
    return ChannelAccount.objects.create(**values)


@pytest.fixture
def mail(server: FakeSmtpServer, no_quiet_hours: MessagingPolicy) -> ChannelAccount:
    return _account(server.port)


def _queue(
    django_capture_on_commit_callbacks,
    *,
    email: str = "ayse@example.com",
    text: str = "Your room is ready.",
    html: str = HTML,
) -> OutboundMessage:
    guest = GuestFactory(email=email)
    with django_capture_on_commit_callbacks():  # nothing goes through Celery: the test delivers
        message = message_send(
            steps=Step(channel="email", subject="Welcome to Lykia Bay", text=text, html=html),
            guest=guest,
            headers={"List-Unsubscribe": UNSUBSCRIBE},
        )
    assert message.status == Status.QUEUED
    return message


def _send_batch(account: ChannelAccount, messages: list[OutboundMessage]) -> list[object]:
    """Send through one backend (one batch), returning an Accepted or the TransportError per message.

    The backend gets the full text, as from the dispatcher (the log masks the unsubscribe link).
    """
    outcomes: list[object] = []
    with get_backend(account) as backend:
        for message in messages:
            try:
                outcomes.append(backend.send(unsealed(message)))
            except TransportError as exc:
                outcomes.append(exc)
    return outcomes


class TestDelivery:
    def test_a_message_arrives_with_sanitised_from_subject_both_parts_and_its_headers(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        [accepted] = _send_batch(mail, [message])
        [received] = server.received
        # The envelope sender is the message's own return path (VERP, E2): a bounce names it.
        local, domain = SENDER.split("@")
        assert received.mail_from == f"{local}+b{message.pk}-{verp_signature(message.pk)}@{domain}"
        assert read_verp(received.mail_from) == message.pk
        assert received.rcpt_tos == ("ayse@example.com",)
        got = received.message
        [sender] = got["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("Lykia Bay Hotel Spa Fethiye", SENDER)
        assert got["Subject"] == "Welcome to Lykia Bay"
        assert got["To"] == "ayse@example.com"
        assert got["List-Unsubscribe"] == UNSUBSCRIBE
        assert got.get_body(("plain",)).get_content().strip() == "Your room is ready."
        assert got.get_body(("html",)).get_content().strip() == HTML
        assert got["Message-ID"] == accepted.provider_message_id
        assert accepted.provider_message_id.endswith("@lykiabay.example>")
        assert accepted.status == "sent"

    def test_a_non_ascii_sender_name_is_encoded_and_reads_back(
        self, server, no_quiet_hours, django_capture_on_commit_callbacks
    ) -> None:
        account = _account(server.port, sender_name="Otel Çınar; Göcek")
        message = _queue(django_capture_on_commit_callbacks)
        # The account form and message_send refuse a line break in the sender name; a row
        # edited some other way is still sanitised when the e-mail is written.
        ChannelAccount.objects.filter(pk=account.pk).update(
            sender_name="Otel Çınar; Göcek\r\nBcc: all@example.com"
        )
        account.refresh_from_db()
        _send_batch(account, [message])
        got = server.received[0].message
        assert got["From"].addresses[0].display_name == "Otel Çınar GöcekBcc allexample.com"
        assert got["Bcc"] is None
        assert server.received[0].rcpt_tos == ("ayse@example.com",)

    def test_without_a_text_the_plain_part_is_made_from_the_html_and_keeps_the_links(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        _send_batch(mail, [_queue(django_capture_on_commit_callbacks, text="")])
        plain = server.received[0].message.get_body(("plain",)).get_content()
        assert plain.strip() == (
            "Welcome back\n\nYour room is ready.\nSee you soon.\n\n"
            "Book the spa (https://lykiabay.example/book?x=1&y=2)"
        )

    def test_two_messages_in_one_batch_share_one_connection(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        first = _queue(django_capture_on_commit_callbacks, email="one@example.com")
        second = _queue(django_capture_on_commit_callbacks, email="two@example.com")
        outcomes = _send_batch(mail, [first, second])
        assert all(not isinstance(o, TransportError) for o in outcomes)
        assert [r.rcpt_tos for r in server.received] == [("one@example.com",), ("two@example.com",)]
        assert server.connections == 1
        assert outcomes[0].provider_message_id != outcomes[1].provider_message_id

    def test_a_send_outside_a_batch_opens_and_closes_its_own_connection(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        accepted = get_backend(mail).send(_queue(django_capture_on_commit_callbacks))
        assert accepted.provider_message_id == server.received[0].message["Message-ID"]
        assert server.connections == 1


class TestErrors:
    @pytest.mark.parametrize("code", [421, 450, 451, 452])
    def test_a_4xx_refusal_of_the_recipient_is_transient(
        self, mail, server, django_capture_on_commit_callbacks, code: int
    ) -> None:
        server.script("RCPT", code)
        [error] = _send_batch(mail, [_queue(django_capture_on_commit_callbacks)])
        assert isinstance(error, TransportError)
        assert (kind_of(error), error.code) == ("transient", str(code))
        assert server.received == []

    def test_a_451_at_the_end_of_data_is_transient(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        server.script("DATA", 451)
        [error] = _send_batch(mail, [_queue(django_capture_on_commit_callbacks)])
        assert (kind_of(error), error.code) == ("transient", "451")

    @pytest.mark.parametrize("command", ["MAIL", "RCPT", "DATA"])
    def test_a_5xx_refusal_is_permanent(
        self, mail, server, django_capture_on_commit_callbacks, command: str
    ) -> None:
        server.script(command, 550)
        [error] = _send_batch(mail, [_queue(django_capture_on_commit_callbacks)])
        assert (kind_of(error), error.code) == ("permanent", "550")
        assert "Mailbox unavailable" in error.message

    def test_a_refused_connection_is_transient(
        self, no_quiet_hours, django_capture_on_commit_callbacks
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        account = _account(closed_port)
        [error] = _send_batch(account, [_queue(django_capture_on_commit_callbacks)])
        assert (kind_of(error), error.code) == ("transient", "connection")

    @pytest.mark.parametrize(
        ("command", "kind"),
        [("DATA", "ambiguous"), ("RCPT", "transient")],
        ids=["after-the-content", "before-it"],
    )
    def test_a_server_that_stops_answering_is_unknown_only_once_the_content_went_out(
        self, mail, server, django_capture_on_commit_callbacks, command: str, kind: str
    ) -> None:
        server.script(command, hang=3)
        [error] = _send_batch(mail, [_queue(django_capture_on_commit_callbacks)])
        assert kind_of(error) == kind

    def test_a_dropped_connection_is_opened_again_for_the_next_message(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        first = _queue(django_capture_on_commit_callbacks, email="one@example.com")
        second = _queue(django_capture_on_commit_callbacks, email="two@example.com")
        server.script("RCPT", drop=True)
        dropped, accepted = _send_batch(mail, [first, second])
        assert isinstance(dropped, TransportError) and kind_of(dropped) == "transient"
        assert not isinstance(accepted, TransportError)
        assert [r.rcpt_tos for r in server.received] == [("two@example.com",)]
        assert server.connections == 2

    def test_a_421_that_closes_the_connection_does_not_stop_the_batch(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        first = _queue(django_capture_on_commit_callbacks, email="one@example.com")
        second = _queue(django_capture_on_commit_callbacks, email="two@example.com")
        server.script("MAIL", 421)
        refused, accepted = _send_batch(mail, [first, second])
        assert (kind_of(refused), refused.code) == ("transient", "421")
        assert not isinstance(accepted, TransportError)
        assert len(server.received) == 1

    def test_a_refused_login_is_permanent_and_never_shows_the_password(
        self, no_quiet_hours, django_capture_on_commit_callbacks
    ) -> None:
        def refuse(server, session, envelope, mechanism, auth_data) -> AuthResult:
            return AuthResult(success=False, handled=False)

        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # aiosmtpd warns about AUTH without TLS: this is loopback
            with running_smtp_server(authenticator=refuse, auth_require_tls=False) as server:
                account = _account(server.port, username="hotel", secret="s3cret-Passw0rd")
                [error] = _send_batch(account, [_queue(django_capture_on_commit_callbacks)])
        assert (kind_of(error), error.code) == ("permanent", "535")
        assert "s3cret-Passw0rd" not in error.message
        assert "s3cret-Passw0rd" not in repr(error.__cause__)
        assert server.received == []

    def test_starttls_the_server_does_not_offer_is_a_permanent_configuration_error(
        self, server, no_quiet_hours, django_capture_on_commit_callbacks
    ) -> None:
        account = _account(server.port, use_tls=True)
        [error] = _send_batch(account, [_queue(django_capture_on_commit_callbacks)])
        assert (kind_of(error), error.code) == ("permanent", "config")


class TestThroughTheDispatcher:
    def test_a_451_is_retried_and_the_message_arrives_once(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        server.script("RCPT", 451)
        assert set(deliver([message.pk])) == {message.pk}
        message.refresh_from_db()
        assert (message.status, message.attempts, message.provider_code) == (
            Status.QUEUED,
            1,
            "451",
        )
        OutboundMessage.objects.filter(pk=message.pk).update(not_before=None)
        assert deliver([message.pk]) == {}
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.SENT, 2)
        [received] = server.received
        assert message.provider_message_id == received.message["Message-ID"]
        assert deliver([message.pk]) == {}
        assert len(server.received) == 1

    def test_a_hang_after_the_content_leaves_the_message_unknown_and_it_is_not_resent(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        server.script("DATA", hang=2)
        assert deliver([message.pk]) == {}
        message.refresh_from_db()
        assert message.status == Status.UNKNOWN
        deliver([message.pk])
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.UNKNOWN, 1)

    def test_a_550_fails_the_message(
        self, mail, server, django_capture_on_commit_callbacks
    ) -> None:
        message = _queue(django_capture_on_commit_callbacks)
        server.script("RCPT", 550)
        deliver([message.pk])
        message.refresh_from_db()
        assert (message.status, message.provider_code) == (Status.FAILED, "550")
        assert "Mailbox unavailable" in message.reason


def test_html_to_text_drops_scripts_lists_items_and_writes_mail_links_as_addresses() -> None:
    html = (
        "<script>alert(1)</script><ul><li>Spa</li><li>Pool</li></ul>"
        '<p>Write to <a href="mailto:desk@lykiabay.example">the desk</a> or '
        '<a href="https://lykiabay.example">https://lykiabay.example</a>.</p>'
    )
    assert html_to_text(html) == (
        "- Spa\n- Pool\n\nWrite to the desk (desk@lykiabay.example) or https://lykiabay.example."
    )
