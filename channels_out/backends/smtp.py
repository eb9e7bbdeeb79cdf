"""E-mail over SMTP (S1, S2, S11): one connection per batch, through Django's SMTP backend.

Each message becomes an ``EmailMultiAlternatives``: From is the account's sanitised name
and address, the text part is the message's text (or one derived from its HTML), the HTML
goes as the alternative, ``message.headers`` (List-Unsubscribe …) are added, and the
Message-ID is ours, so it is the provider message id.

The server's answer is read like this:

- a 4xx reply (421, 450, 451, 452 …) to any command: transient, try again later;
- a 5xx reply: permanent, the server refused this message;
- no connection (refused, DNS, timeout while connecting) or a connection lost before the
  message content went out: transient, nothing was sent;
- a timeout or a lost connection after the content went out (the final ``.`` is sent, its
  answer missing): ambiguous, the server may have taken it.

A connection lost in the middle of a batch is opened again, once, for the next message; if
that fails, the rest of the batch waits for a retry. SMTP has no delivery receipts: an accepted message stays "sent".
"""

from __future__ import annotations

import smtplib
import ssl
from email.utils import formataddr
from typing import TYPE_CHECKING

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend
from django.utils.translation import gettext

from guests.models import ContactChannel

from ..mail_ids import new_message_id
from ..models.accounts import EngagementTracking, sanitise_from_name
from ..services.bounces import verp_address
from ..text import html_to_text
from ..tracking import tracked_html
from .base import Accepted, Backend, TransportError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    from ..models import ChannelAccount, OutboundMessage

# Headers that say who the message is from, to whom and which it is: ours, never a caller's.
RESERVED_HEADERS = frozenset(
    {"from", "sender", "to", "cc", "bcc", "subject", "message-id", "return-path"}
)


class _TrackedSMTP(smtplib.SMTP):
    """smtplib.SMTP that knows whether the message content has gone out.

    After the server's 354 to DATA the next thing sent is the content, ended by
    ``<CRLF>.<CRLF>``; once that has been sent in full, the server may accept the message
    even if its answer never arrives.
    """

    content_sent = False
    _content_next = False

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()
        self._content_next = code == 354
        return code, text

    def send(self, s: ReadableBuffer | str) -> None:
        super().send(s)
        if self._content_next:
            self.content_sent = True


class _TrackedSMTPSSL(_TrackedSMTP, smtplib.SMTP_SSL):
    pass


class _Connection(EmailBackend):
    """Django's SMTP connection handling (STARTTLS/SMTPS, login, timeout) on tracked sockets."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _TrackedSMTPSSL if self.use_ssl else _TrackedSMTP


class SmtpBackend(Backend):
    name = "smtp"
    label = "SMTP"
    channels = (ContactChannel.EMAIL,)
    required_fields = {
        "host": "Enter the SMTP server's host name.",
        "sender": "Enter the address the e-mails come from.",
    }

    def __init__(self, account: ChannelAccount) -> None:
        super().__init__(account)
        self._mail: _Connection | None = None
        self._in_batch = False
        # Why this batch cannot send (the connection could not be opened); raised for each message.
        self._broken: TransportError | None = None

    # --- connection ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self.account.port:
            return self.account.port
        return 465 if self.account.use_ssl else 587 if self.account.use_tls else 25

    def open(self) -> None:
        """Connect and log in for the batch; a failure is kept and raised by each ``send``."""
        self._in_batch, self._broken = True, None
        self._mail = _Connection(
            host=self.account.host,
            port=self.port,
            username=self.account.username,
            password=str(self.account.secret or ""),
            # The account form refuses both; should a row have both, implicit TLS wins.
            use_tls=self.account.use_tls and not self.account.use_ssl,
            use_ssl=self.account.use_ssl,
            timeout=self.account.timeout_seconds,
        )
        self._connect()

    def _connect(self) -> None:
        assert self._mail is not None
        where = f"{self.account.host}:{self.port}"
        try:
            self._mail.open()
        except smtplib.SMTPConnectError as exc:  # it answered, but not with its 220 greeting
            self._broken = TransportError(
                self._scrub(
                    f"the SMTP server {where} did not take the connection: "
                    f"{exc.smtp_code} {_text(exc.smtp_error)}"
                ),
                code=str(exc.smtp_code),
            )
        except smtplib.SMTPResponseException as exc:  # refused STARTTLS or the login
            self._broken = self._reply_error(
                exc.smtp_code, exc.smtp_error, f"{where} refused the connection"
            )
        except (
            smtplib.SMTPNotSupportedError
        ) as exc:  # STARTTLS or AUTH asked for and not offered: fix the account
            self._broken = TransportError(
                f"the SMTP server {where} does not support it: {exc}", code="config", permanent=True
            )
        except ssl.SSLCertVerificationError as exc:
            self._broken = TransportError(
                f"the SMTP server {where} has a certificate we do not trust: {exc}",
                code="tls",
                permanent=True,
            )
        except OSError as exc:  # refused, unknown host, timeout; smtplib's errors are OSErrors too
            self._broken = TransportError(
                self._scrub(f"could not connect to the SMTP server {where}: {_describe(exc)}"),
                code="connection",
            )
        if self._broken is not None:
            self._drop()

    def check_credentials(self) -> str:
        """Connect (STARTTLS or implicit TLS as set), log in if a user name is set, and leave."""
        self.open()
        broken = self._broken
        self.close()
        if broken is not None:
            raise broken
        where = f"{self.account.host}:{self.port}"
        if self.account.username:
            return gettext("logged in to %(where)s as %(user)s") % {
                "where": where,
                "user": self.account.username,
            }
        return gettext("connected to %(where)s (no login set)") % {"where": where}

    def _drop(self) -> None:
        if self._mail is not None:
            try:
                self._mail.close()
            except (OSError, smtplib.SMTPException):
                self._mail.connection = None

    def close(self) -> None:
        self._drop()
        self._mail, self._in_batch = None, False

    # --- sending ------------------------------------------------------------------------------
    @property
    def from_address(self) -> str:
        return formataddr((sanitise_from_name(self.account.sender_name), self.account.sender))

    def message_id(self) -> str:
        return new_message_id(self.account.sender)

    def build_request(self, message: OutboundMessage) -> EmailMultiAlternatives:
        """Return the e-mail for ``message`` with the Message-ID it was logged with (a new one
        for a row logged without)."""
        headers = {
            name: str(value)
            for name, value in (message.headers or {}).items()
            if name.lower() not in RESERVED_HEADERS
        }
        headers["Message-ID"] = message.email_message_id or self.message_id()
        # The envelope sender is the message's own return path (VERP): a bounce names it.
        headers["From"] = self.from_address
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body or html_to_text(message.html_body),
            from_email=verp_address(message, self.account),
            to=[message.to],
            headers=headers,
        )
        if message.html_body:
            html = message.html_body
            if message.tracked and self.account.engagement_tracking == EngagementTracking.OURS:
                html = tracked_html(message, html)
            email.attach_alternative(html, "text/html")
        return email

    def transmit(self, request: EmailMultiAlternatives, message: OutboundMessage) -> None:
        """Send the e-mail on the batch's connection; raise TransportError (see the module doc)."""
        if not self._in_batch:  # a connection for this message alone
            with self:
                return self.transmit(request, message)
        if self._broken is not None:
            raise self._broken
        assert self._mail is not None
        if self._mail.connection is None:  # lost during the batch: open it again, once
            self._connect()
            if self._broken is not None:
                raise self._broken
        connection = self._mail.connection
        assert isinstance(connection, _TrackedSMTP)
        connection.content_sent = False
        try:
            self._mail.send_messages([request])
        except (
            ValueError
        ) as exc:  # a header with a line break, an unusable address: found before sending
            raise TransportError(
                f"the e-mail cannot be sent as written: {exc}", code="invalid", permanent=True
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (-1, b""))
            error = self._reply_error(code, text, f"refused the recipient {message.to}")
            raise self._after(error) from exc
        except smtplib.SMTPResponseException as exc:
            error = self._reply_error(
                exc.smtp_code,
                exc.smtp_error,
                "refused the message",
                content_sent=connection.content_sent,
            )
            raise self._after(error) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. an address needs SMTPUTF8
            raise TransportError(
                f"the SMTP server cannot take this message: {exc}",
                code="unsupported",
                permanent=True,
            ) from exc
        except OSError as exc:  # timeouts and lost connections (SMTPServerDisconnected is one)
            self._drop()
            if connection.content_sent:
                raise TransportError(
                    f"the SMTP server did not confirm the message after receiving it ({_describe(exc)}); "
                    "it may have been sent",
                    code="timeout",
                    ambiguous=True,
                ) from exc
            raise TransportError(
                f"the connection to the SMTP server was lost before the message went out ({_describe(exc)})",
                code="connection",
            ) from exc
        return None

    def parse_accepted(self, answer: None, request: EmailMultiAlternatives) -> Accepted:
        """The server took the e-mail: its Message-ID (ours) is the provider message id."""
        return self.accepted(request.extra_headers["Message-ID"], provider_status="accepted")

    def _after(self, error: TransportError) -> TransportError:
        """Let go of a connection the server closed with its refusal (421 …) so the next message reopens it."""
        if self._mail is not None and getattr(self._mail.connection, "sock", None) is None:
            self._drop()
        return error

    def _reply_error(
        self, code: int, text: bytes | str, what: str, *, content_sent: bool = False
    ) -> TransportError:
        """Classify a refusal by its reply code: 4xx transient, 5xx permanent."""
        message = self._scrub(f"the SMTP server {what}: {code} {_text(text)}".strip())
        if 400 <= code < 500:
            return TransportError(message, code=str(code))
        if 500 <= code < 600:
            return TransportError(message, code=str(code), permanent=True)
        # A reply smtplib could not read: harmless before the content went out, unknown after.
        return TransportError(message, code=str(code), ambiguous=content_sent)

    def _scrub(self, text: str) -> str:
        """Never let the password into a message (a server may echo what it was sent)."""
        secret = str(self.account.secret or "")
        return text.replace(secret, "********") if len(secret) >= 4 else text


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
