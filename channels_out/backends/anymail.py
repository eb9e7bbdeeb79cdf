"""E-mail through an e-mail service provider with django-anymail (E1): Amazon SES, Mailgun,
SendGrid, Postmark and Brevo, one subclass each, chosen per channel account.

Sending: each message becomes an ``EmailMultiAlternatives`` handed to anymail's backend for
the ESP, opened with the account's credentials (``connection_options``) rather than settings,
so two accounts may use two ESPs or two keys of one. Our message id travels as anymail
metadata (``crm_message``) so a provider's event finds its row even when it beats our own
"sent"; the ESP's own open and click tracking is switched on only for a tracked message of an
account that uses it (``EngagementTracking.ESP``), and off otherwise. anymail's errors are read
by the one HTTP rule (``http.status_error``, ``http.network_error``): 429 transient, other
4xx permanent, 5xx or a lost answer ambiguous; a recipient the ESP refuses (its own
suppression list, an invalid address) is permanent.

Receiving: the account's status URL is the ESP's *tracking* webhook and its inbound URL the
*inbound* webhook. Each request is checked and read by anymail's own view class for the ESP
(``tracking_view``, ``inbound_view``), built with the account's webhook secret: Mailgun's
HMAC signature, SendGrid's signed event webhook (ECDSA), HTTP basic auth (``user:password``
in the webhook secret) for Postmark, Brevo and Amazon SES. A request that fails the check is
refused (403) before anything is read. The normalised events (``AnymailTrackingEvent``)
become ``StatusUpdate``s whose ``event`` keeps anymail's word (opened, clicked, complained …)
for the tracking service; inbound e-mails go to the inbox's e-mail reply service.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailNotSupportedWarning,
    AnymailRecipientsRefused,
    AnymailSerializationError,
    AnymailUnsupportedFeature,
)
from anymail.signals import AnymailTrackingEvent, EventType
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string

from guests.models import ContactChannel

from ..models.accounts import EngagementTracking, sanitise_from_name
from ..services.email_replies import InboundEmail
from ..text import html_to_text
from ..tracking import tracked_html
from .base import Accepted, Backend, StatusUpdate, TransportError, WebhookRejected
from .http import network_error, retry_after_seconds, status_error
from .smtp import RESERVED_HEADERS

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend
    from django.http import HttpRequest

    from ..models import ChannelAccount, OutboundMessage

# The metadata key that carries our message id to the ESP and back in its events.
MESSAGE_REF = "crm_message"

# anymail's event types → our statuses. Engagement and complaints move no status (the
# tracking service records them); "queued" tells nothing new.
STATUS_MAP: dict[str, str] = {
    EventType.SENT: "sent",
    EventType.DELIVERED: "delivered",
    EventType.BOUNCED: "undelivered",
    EventType.REJECTED: "failed",
    EventType.FAILED: "failed",
}
# Events the tracking service acts on without a status of their own.
ENGAGEMENT_EVENTS = frozenset(
    {
        EventType.DEFERRED,
        EventType.OPENED,
        EventType.CLICKED,
        EventType.COMPLAINED,
        EventType.UNSUBSCRIBED,
        EventType.AUTORESPONDED,
        EventType.SUBSCRIBED,
    }
)
# An SMTP reply or enhanced status code that says "try later": a soft bounce.
_SOFT_CODE = re.compile(r"(?:^|\D)(4\d\d|4\.\d{1,3}\.\d{1,3})(?:\D|$)")
# What some ESPs call a soft bounce in their own event (anymail keeps it in esp_event).
_SOFT_WORDS = frozenset(
    {"softbounce", "transient", "temporary", "soft_bounce", "soft-bounce", "blocked"}
)


def bounce_kind(event: AnymailTrackingEvent) -> str:
    """Say whether a bounce or deferral ``event`` is "hard", "soft" or neither ("").

    A deferral is soft; a bounce is soft when the ESP calls it so (Postmark's SoftBounce,
    SES's Transient, Mailgun's temporary severity, Brevo's soft_bounce) or the server's
    answer is a 4xx code, and hard otherwise.
    """
    if event.event_type == EventType.DEFERRED:
        return "soft"
    if event.event_type != EventType.BOUNCED:
        return ""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    words = {
        str(raw.get(key, "")).lower() for key in ("Type", "bounceType", "severity", "event", "type")
    }
    bounce = raw.get("bounce")
    if isinstance(bounce, dict):
        words.add(str(bounce.get("bounceType", "")).lower())
    if words & _SOFT_WORDS:
        return "soft"
    if _SOFT_CODE.search(str(event.mta_response or "")):
        return "soft"
    return "hard"


class AnymailBackend(Backend):
    """The template of every ESP: subclasses name anymail's backend and webhook views and say
    which account fields become its settings."""

    channels = (ContactChannel.EMAIL,)
    # anymail's EmailBackend, and its webhook views, for the ESP.
    connection_path: ClassVar[str]
    tracking_view: ClassVar[str]
    inbound_view: ClassVar[str]

    def __init__(self, account: ChannelAccount) -> None:
        super().__init__(account)
        self._connection: BaseEmailBackend | None = None

    # --- the ESP's settings, from the account -------------------------------------------------
    def connection_options(self) -> dict[str, Any]:
        """The anymail settings of the ESP's backend (credentials, API URL) from the account.
        By default an API key (the account's secret) and an optional API URL."""
        options: dict[str, Any] = {"api_key": str(self.account.secret or "")}
        if self.account.api_base_url:
            options["api_url"] = self.account.api_base_url
        return options

    def webhook_options(self) -> dict[str, Any]:
        """The anymail settings of the ESP's webhook views. By default HTTP basic auth with the
        account's webhook secret (``user:password``), which anymail checks."""
        return {"webhook_secret": str(self.account.webhook_secret or "")}

    # --- sending ------------------------------------------------------------------------------
    def open(self) -> None:
        try:
            self._connection = get_connection(self.connection_path, **self.connection_options())
            self._connection.open()
        except Exception:  # reported by send(): a batch must not fail to start
            self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None

    def build_request(self, message: OutboundMessage) -> EmailMultiAlternatives:
        """Return the e-mail for ``message`` with our id as metadata and the ESP's tracking set."""
        headers = {
            name: str(value)
            for name, value in (message.headers or {}).items()
            if name.lower() not in RESERVED_HEADERS
        }
        if message.email_message_id:
            # Ours, fixed when the message was logged: a reply's In-Reply-To names it (ESPs
            # that set their own keep ours in the metadata's stead).
            headers["Message-ID"] = message.email_message_id
        html = message.html_body
        esp_tracks = message.tracked and self.account.engagement_tracking == EngagementTracking.ESP
        if message.tracked and self.account.engagement_tracking == EngagementTracking.OURS:
            html = tracked_html(message, html)
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body or html_to_text(message.html_body),
            from_email=f"{sanitise_from_name(self.account.sender_name)} <{self.account.sender}>"
            if self.account.sender_name
            else self.account.sender,
            to=[message.to],
            headers=headers,
        )
        if html:
            email.attach_alternative(html, "text/html")
        email.metadata = {MESSAGE_REF: str(message.pk)}  # type: ignore[attr-defined]
        email.track_opens = esp_tracks  # type: ignore[attr-defined]
        email.track_clicks = esp_tracks  # type: ignore[attr-defined]
        return email

    def transmit(self, request: EmailMultiAlternatives, message: OutboundMessage) -> None:
        """Send the e-mail through anymail; raise TransportError (see the module doc)."""
        if self._connection is None:
            try:
                connection = get_connection(self.connection_path, **self.connection_options())
            except (ImproperlyConfigured, ImportError) as exc:
                raise TransportError(
                    f"the {self.label} account is not usable: {exc}", code="config", permanent=True
                ) from exc
        else:
            connection = self._connection
        try:
            connection.send_messages([request])
        except AnymailRecipientsRefused as exc:
            raise TransportError(
                f"{self.label} refused the recipient {message.to}", code="refused", permanent=True
            ) from exc
        except (AnymailInvalidAddress, AnymailUnsupportedFeature, AnymailSerializationError) as exc:
            raise TransportError(
                f"the e-mail cannot be sent as written: {exc}", code="invalid", permanent=True
            ) from exc
        except AnymailError as exc:
            raise self._api_error(exc) from exc
        except ImproperlyConfigured as exc:
            raise TransportError(
                f"the {self.label} account is not usable: {exc}", code="config", permanent=True
            ) from exc

    def _api_error(self, exc: AnymailError) -> TransportError:
        """Classify an ESP's refusal or a failed exchange by the one HTTP rule."""
        cause = exc.__cause__
        if isinstance(cause, requests.RequestException) and exc.status_code is None:
            return network_error(cause, self.label)
        if exc.status_code is not None:
            retry_after = None
            if exc.response is not None and exc.status_code == 429:
                retry_after = retry_after_seconds(exc.response.headers.get("Retry-After"))
            return status_error(
                int(exc.status_code),
                f"{self.label} answered {exc.status_code}",
                retry_after=retry_after,
            )
        if isinstance(exc, AnymailAPIError):
            return TransportError(
                f"{self.label} did not take the message: {exc.args[0] if exc.args else exc}; "
                "it may have been sent",
                code="api",
                ambiguous=True,
            )
        return TransportError(f"{self.label}: {exc}", code="api", ambiguous=True)

    def parse_accepted(self, answer: None, request: EmailMultiAlternatives) -> Accepted:
        """The ESP took the e-mail: its message id (anymail's ``anymail_status``)."""
        status = request.anymail_status  # type: ignore[attr-defined]
        words = sorted(status.status or [])
        return self.accepted(
            str(status.message_id) if status.message_id is not None else "",
            provider_status=",".join(words)[:40],
        )

    # --- webhooks -----------------------------------------------------------------------------
    def _view(self, path: str) -> Any:
        """anymail's view for the ESP, built with the account's webhook settings."""
        try:
            with warnings.catch_warnings():
                # SendGrid's views warn on every construction that anymail no longer tests
                # against SendGrid; the webhook format they read is unchanged.
                warnings.simplefilter("ignore", AnymailNotSupportedWarning)
                return import_string(path)(**self.webhook_options())
        except (ImproperlyConfigured, ValueError, TypeError) as exc:  # e.g. an unusable key
            raise WebhookRejected(f"the {self.label} account cannot check webhooks: {exc}") from exc

    def verify_webhook(self, request: HttpRequest) -> None:
        """Check the request with anymail's own validators for the ESP (signature, basic auth).

        An account without a webhook secret takes no webhooks: anymail would accept anyone's.
        """
        if not str(self.account.webhook_secret or ""):
            raise WebhookRejected(f"the {self.label} account has no webhook secret")
        match = request.resolver_match
        inbound = match is not None and match.url_name == "inbound-webhook"
        view = self._view(self.inbound_view if inbound else self.tracking_view)
        try:
            view.run_validators(request)
        except Exception as exc:  # a bad signature, and whatever a malformed body raises
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise WebhookRejected(first) from exc
        request._anymail_view = view  # type: ignore[attr-defined]

    def _events(self, request: HttpRequest) -> list[Any]:
        view = getattr(request, "_anymail_view", None)
        if view is None:
            return []
        try:
            return list(view.parse_events(request))
        except Exception as exc:  # a body the ESP's parser cannot read: nothing to apply
            raise WebhookRejected(f"unreadable {self.label} webhook: {type(exc).__name__}") from exc

    def parse_status_webhook(self, request: HttpRequest) -> list[StatusUpdate]:
        """Read anymail's normalised tracking events as receipts (``event`` keeps its word)."""
        updates = []
        for event in self._events(request):
            update = self.tracking_update(event)
            if update is not None:
                updates.append(update)
        return updates

    def tracking_update(self, event: AnymailTrackingEvent) -> StatusUpdate | None:
        """Return the receipt for one anymail tracking event; None for one that tells nothing."""
        kind = str(event.event_type or "")
        if kind == EventType.QUEUED or kind not in (
            set(STATUS_MAP) | ENGAGEMENT_EVENTS | {EventType.UNKNOWN}
        ):
            return None
        metadata = event.metadata if isinstance(event.metadata, dict) else {}
        ref = str(metadata.get(MESSAGE_REF, "") or "")
        provider_id = str(event.message_id or "")
        if not provider_id and not ref:
            return None
        bounce = bounce_kind(event)
        status = STATUS_MAP.get(kind, "")
        if kind == EventType.BOUNCED and bounce == "soft":
            status = "undelivered"
        code = _code(event)
        return StatusUpdate(
            provider_message_id=provider_id or f"ref:{ref}",
            status=status,
            provider_status=kind[:40],
            code=code,
            description=str(event.description or event.mta_response or "")[:500],
            message_ref=ref,
            payload=_payload(event),
            event=kind,
            bounce=bounce,
            recipient=str(event.recipient or ""),
            url=str(event.click_url or ""),
            user_agent=str(event.user_agent or ""),
            at=event.timestamp,
        )

    def parse_inbound_emails(self, request: HttpRequest) -> list[InboundEmail]:
        """Read anymail's inbound e-mails (``AnymailInboundMessage``, a parsed MIME message)
        for the inbox's e-mail reply service."""
        return [
            InboundEmail.from_mime(event.message)
            for event in self._events(request)
            if getattr(event, "message", None) is not None
        ]


def _code(event: AnymailTrackingEvent) -> str:
    match = _SOFT_CODE.search(str(event.mta_response or "")) or re.search(
        r"(?:^|\D)(5\d\d|5\.\d{1,3}\.\d{1,3})(?:\D|$)", str(event.mta_response or "")
    )
    if match:
        return match.group(1)
    return str(event.reject_reason or "")[:40]


def _payload(event: AnymailTrackingEvent) -> dict[str, Any]:
    """What is kept of an event: anymail's normalised fields, never the whole ESP body (which
    may carry the message's links and tokens)."""
    data = {
        "event_type": event.event_type,
        "event_id": event.event_id,
        "reject_reason": event.reject_reason,
        "mta_response": str(event.mta_response or "")[:500],
        "recipient": event.recipient,
    }
    return json.loads(json.dumps({k: v for k, v in data.items() if v}, default=str))


class AmazonSesBackend(AnymailBackend):
    name = "anymail_amazon_ses"
    label = "Amazon SES"
    connection_path = "anymail.backends.amazon_ses.EmailBackend"
    tracking_view = "anymail.webhooks.amazon_ses.AmazonSESTrackingWebhookView"
    inbound_view = "anymail.webhooks.amazon_ses.AmazonSESInboundWebhookView"
    required_fields = {
        "sender": "Enter the address the e-mails come from.",
        "account_id": "Enter the AWS access key ID.",
        "secret": "Enter the AWS secret access key.",
        "region": "Enter the AWS region, e.g. eu-west-1.",
    }

    def connection_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "session_params": {
                "aws_access_key_id": self.account.account_id,
                "aws_secret_access_key": str(self.account.secret or ""),
                "region_name": self.account.region,
            }
        }
        if self.account.esp_stream:
            options["configuration_set_name"] = self.account.esp_stream
        return options

    def webhook_options(self) -> dict[str, Any]:
        # SNS subscriptions are confirmed by staff in the AWS console, never automatically.
        return {**super().webhook_options(), "auto_confirm_sns_subscriptions": False}


class MailgunBackend(AnymailBackend):
    name = "anymail_mailgun"
    label = "Mailgun"
    connection_path = "anymail.backends.mailgun.EmailBackend"
    tracking_view = "anymail.webhooks.mailgun.MailgunTrackingWebhookView"
    inbound_view = "anymail.webhooks.mailgun.MailgunInboundWebhookView"
    required_fields = {
        "sender": "Enter the address the e-mails come from.",
        "secret": "Enter the Mailgun API key.",
        "webhook_secret": "Enter the Mailgun webhook signing key.",
    }

    def webhook_options(self) -> dict[str, Any]:
        return {"webhook_signing_key": str(self.account.webhook_secret or ""), "webhook_secret": []}


class SendGridBackend(AnymailBackend):
    name = "anymail_sendgrid"
    label = "SendGrid"
    connection_path = "anymail.backends.sendgrid.EmailBackend"
    tracking_view = "anymail.webhooks.sendgrid.SendGridTrackingWebhookView"
    inbound_view = "anymail.webhooks.sendgrid.SendGridInboundWebhookView"
    required_fields = {
        "sender": "Enter the address the e-mails come from.",
        "secret": "Enter the SendGrid API key.",
        "webhook_secret": "Enter the signed event webhook's verification key.",
    }

    def webhook_options(self) -> dict[str, Any]:
        # The signed event webhook's public key (base64 of the DER, as SendGrid shows it).
        return {
            "tracking_webhook_verification_key": str(self.account.webhook_secret or ""),
            "webhook_secret": [],
        }


class PostmarkBackend(AnymailBackend):
    name = "anymail_postmark"
    label = "Postmark"
    connection_path = "anymail.backends.postmark.EmailBackend"
    tracking_view = "anymail.webhooks.postmark.PostmarkTrackingWebhookView"
    inbound_view = "anymail.webhooks.postmark.PostmarkInboundWebhookView"
    required_fields = {
        "sender": "Enter the address the e-mails come from.",
        "secret": "Enter the Postmark server token.",
        "webhook_secret": "Enter the webhook's basic-auth user:password.",
    }

    def connection_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"server_token": str(self.account.secret or "")}
        if self.account.esp_stream:
            options["message_stream"] = self.account.esp_stream
        if self.account.api_base_url:
            options["api_url"] = self.account.api_base_url
        return options


class BrevoBackend(AnymailBackend):
    name = "anymail_brevo"
    label = "Brevo"
    connection_path = "anymail.backends.brevo.EmailBackend"
    tracking_view = "anymail.webhooks.brevo.BrevoTrackingWebhookView"
    inbound_view = "anymail.webhooks.brevo.BrevoInboundWebhookView"
    required_fields = {
        "sender": "Enter the address the e-mails come from.",
        "secret": "Enter the Brevo API key.",
        "webhook_secret": "Enter the webhook's basic-auth user:password.",
    }

    def webhook_options(self) -> dict[str, Any]:
        return {**super().webhook_options(), "api_key": str(self.account.secret or "")}
