"""The contract every provider backend fulfils (S2), as a template (django-anymail's shape).

``Backend.send`` is the same for every provider: it builds the request for one
``OutboundMessage`` (``build_request``), transmits it (``transmit``), classifies the answer
(``check_answer``) and reads the id of an accepted message (``parse_accepted``); a provider
implements those four hooks and nothing else of sending. Every failure is a
``TransportError`` saying what kind it was (transient, permanent, ambiguous); for providers
spoken to over HTTP the rule for that lives once, in ``http.py``. The webhook hooks verify a
provider's callbacks (``verify_webhook``) and read them (``parse_status_webhook``,
``parse_inbound_webhook``), mapping the provider's status words onto ours (``status_map``,
``status_update``); the webhook view makes what they read storable once (``text.storable``),
so a backend passes the provider's text on as it came. Backends never touch the send log or
the ledger: the dispatcher and the status service do, so the rules for retries, statuses and
credits live in one place. The registry of backend names (``BACKENDS``, ``get_backend``)
closes the module.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_lazy

from crm_messaging.phones import InvalidPhone, normalise_phone

if TYPE_CHECKING:
    from ..models import ChannelAccount, OutboundMessage
    from ..services.email_replies import InboundEmail


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
      the plan's next step goes (e.g. the SMS after "not a Viber user");
    - ``ambiguous``: the request may have gone out (timeout after sending, HTTP 5xx); the
      outcome is unknown and must not be resent automatically.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        permanent: bool = False,
        ambiguous: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = str(code or "")
        self.permanent = permanent
        self.ambiguous = ambiguous
        self.retry_after = retry_after


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt read from a webhook, in our status vocabulary.

    ``status`` is "" when the provider's word (``provider_status``) is none we know: the
    receipt is kept as an event and changes nothing.
    """

    provider_message_id: str
    status: str
    provider_status: str = ""
    code: str = ""
    description: str = ""
    # Our message id when the provider echoes it (a query parameter of the callback URL,
    # Vonage's client_ref): finds the row even if the receipt beats our own "sent" write.
    message_ref: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    # E-mail providers' tracking (anymail's normalised words): the event (delivered, bounced,
    # deferred, opened, clicked, complained, unsubscribed …), whether a bounce is "hard" or
    # "soft", the address it concerns, the link clicked, the reader's user agent and when.
    event: str = ""
    bounce: str = ""
    recipient: str = ""
    url: str = ""
    user_agent: str = ""
    at: dt.datetime | None = None


@dataclass(frozen=True)
class Inbound:
    """A message a guest sent to one of our numbers."""

    provider_message_id: str
    from_number: str
    body: str
    channel: str
    payload: dict[str, Any] = field(default_factory=dict)
    # When the guest sent it, by the provider's clock (None: when it reached us).
    sent_at: dt.datetime | None = None


def sent_at_of(value: Any) -> dt.datetime | None:
    """A provider's ISO 8601 timestamp with its offset, or None (missing, malformed or naive:
    then the time it reached us counts)."""
    try:
        sent_at = dt.datetime.fromisoformat(str(value or ""))
    except ValueError:
        return None
    return sent_at if sent_at.tzinfo else None


class WebhookRejected(Exception):
    """A webhook failed its authenticity check (answered 403, nothing changes)."""


class Backend:
    """Base class: subclasses set the class attributes and implement the hooks of ``send``
    (``build_request``, ``transmit``, ``check_answer``, ``parse_accepted``) and of the
    webhooks they take.

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
        # The required fields' messages are in the catalogue (locale/), read in the
        # reader's language here.
        errors = {
            name: gettext(message)
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

    # --- checking an account ------------------------------------------------------------------
    def check_credentials(self) -> str:
        """Prove the account's login works without sending anything; return what was checked.

        Raise ``TransportError`` saying what failed; ``NotImplementedError`` when this provider
        offers no way to check without sending.
        """
        raise NotImplementedError(
            gettext("%(provider)s cannot be checked without sending a message.")
            % {"provider": self.label}
        )

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
        """Hand ``message`` to the provider: build the request, transmit it, classify the
        answer, read the accepted id. Return ``Accepted``; raise ``TransportError`` (from any
        step) when the provider did not take it."""
        request = self.build_request(message)
        answer = self.transmit(request, message)
        self.check_answer(answer)
        return self.parse_accepted(answer, request)

    def build_request(self, message: OutboundMessage) -> Any:
        """Return what the provider is sent for ``message`` (API parameters, an e-mail …).
        Raise ``TransportError`` (permanent) for a message the provider could never take."""
        raise NotImplementedError

    def transmit(self, request: Any, message: OutboundMessage) -> Any:
        """Send ``request`` and return the provider's answer. Raise ``TransportError`` when no
        answer came back, classified by how far the request got (``http.network_error``)."""
        raise NotImplementedError

    def check_answer(self, answer: Any) -> None:
        """Raise ``TransportError`` when ``answer`` refuses the message (``http.status_error``
        for HTTP answers). By default an answer is an acceptance."""

    def parse_accepted(self, answer: Any, request: Any) -> Accepted:
        """Return the ``Accepted`` an accepting ``answer`` stands for (use ``accepted``)."""
        raise NotImplementedError

    def accepted(
        self,
        provider_message_id: str,
        *,
        provider_status: str = "",
        payload: dict[str, Any] | None = None,
    ) -> Accepted:
        """Return ``Accepted`` for the provider's id; an acceptance without one cannot be
        followed up, so it raises ``TransportError`` (ambiguous: the message may exist)."""
        if not provider_message_id:
            raise TransportError(
                f"{self.label} accepted the message without an id", code="no-id", ambiguous=True
            )
        return Accepted(
            provider_message_id=str(provider_message_id),
            provider_status=provider_status,
            payload=payload or {},
        )

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

    # The provider's status words → ours; words that tell nothing new (Twilio's "queued" …)
    # are left out of receipts; any other word is kept as an event that changes nothing.
    status_map: ClassVar[dict[str, str]] = {}
    uninformative_statuses: ClassVar[frozenset[str]] = frozenset()

    def status_update(
        self,
        *,
        provider_message_id: str,
        provider_status: str,
        code: str = "",
        description: str = "",
        message_ref: str = "",
        payload: dict[str, Any] | None = None,
    ) -> StatusUpdate | None:
        """Return a receipt in our words (``status`` "" for a word we do not know), or None
        for a word that tells nothing new or a receipt without the provider's id."""
        word = provider_status.strip().lower()
        if not provider_message_id or word in self.uninformative_statuses:
            return None
        return StatusUpdate(
            provider_message_id=str(provider_message_id),
            status=self.status_map.get(word, ""),
            provider_status=word[:40],
            code=str(code or "")[:40],
            description=str(description or ""),
            message_ref=str(message_ref or ""),
            payload=payload or {},
        )

    # Providers without delivery webhooks (NetGSM) are asked: the receipt poll calls
    # ``fetch_statuses`` for the account's messages still waiting for a receipt.
    polls_receipts: ClassVar[bool] = False

    def fetch_statuses(self, provider_ids: list[str]) -> list[StatusUpdate]:
        """Ask the provider about these messages; return the receipts it has (``status_update``).

        Raise ``TransportError`` when it cannot be asked now.
        """
        return []

    def parse_status_webhook(self, request: HttpRequest) -> list[StatusUpdate]:
        """Read delivery receipts from a verified status webhook (use ``status_update``)."""
        return []

    def parse_inbound_webhook(self, request: HttpRequest) -> list[Inbound]:
        """Read inbound messages from a verified inbound webhook."""
        return []

    def parse_inbound_emails(self, request: HttpRequest) -> list[InboundEmail]:
        """Read e-mails from a verified inbound webhook (an ESP's inbound route); they are
        recorded as the guests' e-mail replies."""
        return []

    def inbound_response(self) -> HttpResponse:
        """What the provider expects back from an inbound webhook (Twilio: empty TwiML)."""
        return HttpResponse(status=204)


# --- the registry ------------------------------------------------------------------------------
# Names → dotted paths, imported on first use (healthchecks-style). The names feed
# ``ChannelAccount.backend`` choices; ``backend_class`` raises KeyError for an unknown name.
BACKENDS: dict[str, tuple[str, str]] = {
    "smtp": ("channels_out.backends.smtp.SmtpBackend", "SMTP"),
    "twilio_sms": ("channels_out.backends.twilio_sms.TwilioSmsBackend", "Twilio SMS"),
    "twilio_whatsapp": (
        "channels_out.backends.twilio_whatsapp.TwilioWhatsAppBackend",
        "Twilio WhatsApp",
    ),
    "vonage_viber": ("channels_out.backends.viber.VonageViberBackend", "Vonage Viber"),
    "netgsm": ("channels_out.backends.netgsm.NetgsmBackend", "NetGSM SMS"),
    "anymail_amazon_ses": (
        "channels_out.backends.anymail.AmazonSesBackend",
        "Amazon SES (anymail)",
    ),
    "anymail_mailgun": ("channels_out.backends.anymail.MailgunBackend", "Mailgun (anymail)"),
    "anymail_sendgrid": ("channels_out.backends.anymail.SendGridBackend", "SendGrid (anymail)"),
    "anymail_postmark": ("channels_out.backends.anymail.PostmarkBackend", "Postmark (anymail)"),
    "anymail_brevo": ("channels_out.backends.anymail.BrevoBackend", "Brevo (anymail)"),
    "sandbox": ("channels_out.backends.sandbox.SandboxBackend", "Sandbox (simulated provider)"),
    "locmem": ("channels_out.backends.locmem.LocmemBackend", "In-memory (tests)"),
}
# The labels that are words, not product names, in the staff's language.
_TRANSLATED_LABELS = {
    "sandbox": gettext_lazy("Sandbox (simulated provider)"),
    "locmem": gettext_lazy("In-memory (tests)"),
}


def backend_choices() -> list[tuple[str, Any]]:
    return [(name, _TRANSLATED_LABELS.get(name, label)) for name, (_, label) in BACKENDS.items()]


@cache
def backend_class(name: str) -> type[Backend]:
    """Return the backend class registered as ``name``; KeyError if there is none."""
    return import_string(BACKENDS[name][0])


def get_backend(account: ChannelAccount) -> Backend:
    return backend_class(account.backend)(account)
