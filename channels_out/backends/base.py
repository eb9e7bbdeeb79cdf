"""The contract every provider backend fulfils (S2).

A backend turns one ``OutboundMessage`` into one provider request and the provider's answer
into either an ``Accepted`` or a ``TransportError`` that says what kind of failure it was;
it also verifies and reads the provider's webhooks. Backends never touch the send log or
the ledger: the dispatcher does, so the rules for retries, statuses and credits live in one
place (channels_out/dispatch.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from crm_messaging.phones import InvalidPhone, normalise_phone

if TYPE_CHECKING:
    from ..models import ChannelAccount, OutboundMessage


ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


def validate_sms_sender(value: str) -> None:
    """Accept an alphanumeric sender ID (1–11 of A–Z a–z 0–9 and space, with a letter) or an E.164 number."""
    if ALPHANUMERIC_SENDER.match(value):
        return
    if value.startswith("+"):
        try:
            if normalise_phone(value) == value:
                return
        except InvalidPhone as exc:
            raise ValidationError(
                f"The sender number is not valid: {exc.reason}.", code="invalid_sender"
            ) from exc
        raise ValidationError(
            "Write the sender number in E.164 form, e.g. +905321234567.", code="invalid_sender"
        )
    raise ValidationError(
        "A sender is either up to 11 letters, digits and spaces with at least one letter "
        "(e.g. “LYKIA BAY”), or a phone number in E.164 form (e.g. +905321234567).",
        code="invalid_sender",
    )


@dataclass(frozen=True)
class Accepted:
    """The provider took the message. ``status`` is ours: normally "sent"."""

    provider_message_id: str
    status: str = "sent"
    provider_status: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


class TransportError(Exception):
    """The provider did not take the message.

    - transient (the default): nothing was sent; retry later with backoff (HTTP 429, SMTP
      4xx, connection refused before the request went out);
    - ``permanent``: the provider refused this message; never retry (HTTP 4xx, SMTP 5xx);
    - ``ambiguous``: the request may have gone out (timeout after sending, HTTP 5xx); the
      outcome is unknown and must not be resent automatically;
    - ``unreachable``: permanent, and the recipient cannot be reached on this channel at all
      (not a Viber user, blocked, no suitable device): the next step of the plan goes at once.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        permanent: bool = False,
        ambiguous: bool = False,
        unreachable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = str(code or "")
        self.permanent = permanent or unreachable
        self.ambiguous = ambiguous
        self.unreachable = unreachable
        self.retry_after = retry_after

    @property
    def kind(self) -> str:
        if self.ambiguous:
            return "ambiguous"
        if self.unreachable:
            return "unreachable"
        return "permanent" if self.permanent else "transient"


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt read from a webhook, in our status vocabulary."""

    provider_message_id: str
    status: str
    provider_status: str = ""
    code: str = ""
    description: str = ""
    # Our message id when the provider echoes it (a query parameter of the callback URL,
    # Vonage's client_ref): finds the row even if the receipt beats our own "sent" write.
    message_ref: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Inbound:
    """A message a guest sent to one of our numbers."""

    provider_message_id: str
    from_number: str
    body: str
    channel: str
    payload: dict[str, Any] = field(default_factory=dict)


class WebhookRejected(Exception):
    """A webhook failed its authenticity check (answered 403, nothing changes)."""


class Backend:
    """Base class: subclasses set the class attributes and implement ``send``.

    Use as a context manager around a batch so connection-oriented backends (SMTP) open one
    connection for many messages.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    channels: ClassVar[tuple[str, ...]]
    # Account fields this backend needs, with the message shown when one is empty.
    required_fields: ClassVar[dict[str, str]] = {}

    def __init__(self, account: ChannelAccount) -> None:
        self.account = account

    # --- configuration --------------------------------------------------------------------
    # Channels on which the provider charges only for delivered messages: credits are debited
    # on the delivery receipt rather than on acceptance, so a message that never arrives costs
    # nothing.
    debit_on_delivery: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def account_errors(cls, account: ChannelAccount) -> dict[str, str]:
        """Return {field: message} for what this backend cannot work with (empty required fields, a bad sender …)."""
        errors = {
            name: message
            for name, message in cls.required_fields.items()
            if not getattr(account, name)
        }
        if account.channel == "sms" and account.sender and "sender" not in errors:
            problem = cls.sms_sender_error(account.sender)
            if problem:
                errors["sender"] = problem
        return errors

    @classmethod
    def sms_sender_error(cls, sender: str) -> str | None:
        """Say what is wrong with an SMS sender (an alphanumeric ID or an E.164 number), or None."""
        try:
            validate_sms_sender(sender)
        except ValidationError as exc:
            return exc.messages[0]
        return None

    # --- sending ----------------------------------------------------------------------------
    def open(self) -> None:
        """Open what a batch can share (a connection); optional. Must not raise: report failures from ``send``."""

    def close(self) -> None:
        """Close what ``open`` opened; must not raise."""

    def __enter__(self) -> Backend:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, message: OutboundMessage) -> Accepted:
        """Hand ``message`` to the provider; return ``Accepted`` or raise ``TransportError``."""
        raise NotImplementedError

    def status_callback_url(self, message: OutboundMessage) -> str:
        """The absolute URL the provider should report delivery to (with our message id)."""
        return f"{self._status_webhook_url}?m={message.pk}"

    @cached_property
    def _status_webhook_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}{reverse('channels_out:status-webhook', kwargs={'account_id': self.account.pk})}"

    # --- webhooks ---------------------------------------------------------------------------
    def verify_webhook(self, request: HttpRequest) -> None:
        """Raise ``WebhookRejected`` unless the request provably comes from the provider."""
        raise WebhookRejected(f"The {self.label} backend takes no webhooks.")

    def parse_status_webhook(self, request: HttpRequest) -> list[StatusUpdate]:
        """Read delivery receipts from a verified status webhook."""
        return []

    def parse_inbound_webhook(self, request: HttpRequest) -> list[Inbound]:
        """Read inbound messages from a verified inbound webhook."""
        return []

    def inbound_response(self) -> HttpResponse:
        """What the provider expects back from an inbound webhook (Twilio: empty TwiML)."""
        return HttpResponse(status=204)
