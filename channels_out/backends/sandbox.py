"""The sandbox: a simulated provider for every channel, so the whole loop runs on one laptop.

It accepts messages like a real provider and, a few seconds later, calls our own status
webhook over HTTP with a signed delivery receipt (a Celery task posts it to
``PUBLIC_BASE_URL``). The recipient's number (or e-mail address) chooses what happens:

| number ends in | e-mail contains | outcome |
| --- | --- | --- |
| 0000 | ``reject`` | refused at once: failed (permanent) |
| 1111 | ``bounce`` | accepted, then an "undelivered" receipt |
| 2222 | | Viber: accepted, then "not a Viber user" (the SMS fallback goes); other channels: delivered |
| 3333 | | accepted, the receipt comes 10 minutes late (Viber falls back to SMS on its TTL first) |
| 4444 | ``timeout`` | the request times out after leaving: unknown outcome |
| 5555 | ``busy`` | rate-limited (HTTP 429) on the first attempt, accepted on the retry |
| 6666 | | accepted, delivered after 2 seconds, and the guest answers 2 seconds later |
| anything else | anything else | accepted, delivered after 2 seconds (e-mail: sent, no receipt) |

A guest at a number ending in 6666 answers every message but an away message (in the
message's language, as a signed inbound webhook), so the inbox is alive in the demo.

Webhooks are signed: ``X-Sandbox-Signature`` is the hex HMAC-SHA256 of the body with the
account's webhook secret (or, when it has none, a key derived from SECRET_KEY).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from crm_messaging.handoff import hand_off
from guests.models import ContactChannel

from .base import (
    Accepted,
    Backend,
    Inbound,
    StatusUpdate,
    TransportError,
    WebhookRejected,
    sent_at_of,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from ..models import ChannelAccount, OutboundMessage

NORMAL_RECEIPT_DELAY = 2.0
SLOW_RECEIPT_DELAY = 600.0
SIGNATURE_HEADER = "X-Sandbox-Signature"
GUEST_REPLIES_SUFFIX = "6666"
# What a sandbox guest answers, in the message's language (English otherwise).
GUEST_ANSWERS = {
    "tr": "Teşekkürler! Odaya erken girebilir miyiz?",
    "en": "Thank you! Could we check in a little earlier?",
    "de": "Danke! Können wir etwas früher einchecken?",
    "ru": "Спасибо! Можно ли заселиться немного раньше?",
}


def signing_key(account: ChannelAccount) -> bytes:
    secret = (
        str(account.webhook_secret or "")
        or hashlib.sha256(f"sandbox:{settings.SECRET_KEY}".encode()).hexdigest()
    )
    return secret.encode()


def sign(account: ChannelAccount, body: bytes) -> str:
    return hmac.new(signing_key(account), body, hashlib.sha256).hexdigest()


def receipt_body(
    *,
    provider_message_id: str,
    status: str,
    message_ref: str,
    code: str = "",
    description: str = "",
) -> bytes:
    return json.dumps(
        {
            "type": "status",
            "id": provider_message_id,
            "status": status,
            "ref": message_ref,
            "code": code,
            "description": description,
        }
    ).encode()


def inbound_body(
    *,
    from_number: str,
    body: str,
    channel: str,
    provider_message_id: str | None = None,
    sent_at: dt.datetime | None = None,
) -> bytes:
    """A guest's message as the sandbox posts it; ``timestamp`` is when the guest sent it."""
    return json.dumps(
        {
            "type": "inbound",
            "id": provider_message_id or f"SBIN{uuid.uuid4().hex[:24]}",
            "from": from_number,
            "body": body,
            "channel": channel,
            "timestamp": (sent_at or timezone.now()).isoformat(),
        }
    ).encode()


def guest_answer(language: str) -> str:
    """What a sandbox guest answers in ``language``."""
    return GUEST_ANSWERS.get(language[:2], GUEST_ANSWERS["en"])


def plan_outcome(message: OutboundMessage) -> tuple[str, str, str, float] | None:
    """Return the receipt the sandbox will send: (status, code, description, delay) or None."""
    to = message.to.lower()
    if message.channel == ContactChannel.EMAIL:
        return (
            ("undelivered", "550", "mailbox unavailable (sandbox)", NORMAL_RECEIPT_DELAY)
            if "bounce" in to
            else None
        )
    if to.endswith("1111"):
        return ("undelivered", "30003", "unreachable handset (sandbox)", NORMAL_RECEIPT_DELAY)
    if to.endswith("2222") and message.channel == ContactChannel.VIBER:
        return ("failed", "1300", "not a Viber user (sandbox)", NORMAL_RECEIPT_DELAY)
    if to.endswith("3333"):
        return ("delivered", "", "", SLOW_RECEIPT_DELAY)
    return ("delivered", "", "", NORMAL_RECEIPT_DELAY)


class SandboxBackend(Backend):
    name = "sandbox"
    label = "Sandbox"
    channels = tuple(ContactChannel.values)

    def check_credentials(self) -> str:
        return gettext("the sandbox needs no login; it simulates a provider")

    # Like Vonage, the sandbox charges Viber only when it is delivered.
    debit_on_delivery = frozenset({ContactChannel.VIBER})
    # The sandbox reports in our own words.
    status_map = {status: status for status in ("sent", "delivered", "undelivered", "failed")}

    def build_request(self, message: OutboundMessage) -> str:
        """The sandbox needs only the recipient: it decides what happens."""
        return message.to.lower()

    def transmit(self, request: str, message: OutboundMessage) -> str:
        """Answer as the recipient says (see the module doc); return the new message id."""
        to = request
        if to.endswith("0000") or "reject" in to:
            raise TransportError("rejected by the sandbox provider", code="SBX400", permanent=True)
        if to.endswith("4444") or "timeout" in to:
            raise TransportError(
                "the sandbox provider did not answer in time", code="SBX-TIMEOUT", ambiguous=True
            )
        if (to.endswith("5555") or "busy" in to) and message.attempts <= 1:
            raise TransportError("too many requests (sandbox)", code="429", retry_after=1.0)
        provider_id = f"SB{uuid.uuid4().hex[:30]}"
        outcome = plan_outcome(message)
        if outcome is not None:
            status, code, description, delay = outcome
            # The simulated provider accepted the message; a receipt it cannot schedule is
            # logged (as a real provider's lost receipt would be: the message stays sent).
            hand_off(
                "channels_out.sandbox_receipt",
                kwargs={
                    "account_id": self.account.pk,
                    "provider_message_id": provider_id,
                    "status": status,
                    "message_ref": str(message.pk),
                    "code": code,
                    "description": description,
                },
                countdown=delay,
            )
        if (
            to.endswith(GUEST_REPLIES_SUFFIX)
            and message.channel != ContactChannel.EMAIL
            and message.source != "auto_reply"  # a guest does not answer the away message
        ):
            hand_off(
                "channels_out.sandbox_guest_reply",
                kwargs={
                    "account_id": self.account.pk,
                    "from_number": message.to,
                    "channel": message.channel,
                    "body": guest_answer(message.language),
                },
                countdown=2 * NORMAL_RECEIPT_DELAY,
            )
        return provider_id

    def parse_accepted(self, answer: str, request: str) -> Accepted:
        return self.accepted(answer, provider_status="accepted")

    def verify_webhook(self, request: HttpRequest) -> None:
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(given, sign(self.account, request.body)):
            raise WebhookRejected("missing or wrong X-Sandbox-Signature")

    def _payload(self, request: HttpRequest) -> dict[str, Any]:
        try:
            data = json.loads(request.body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def parse_status_webhook(self, request: HttpRequest) -> list[StatusUpdate]:
        data = self._payload(request)
        if data.get("type") != "status":
            return []
        update = self.status_update(
            provider_message_id=str(data.get("id") or ""),
            provider_status=str(data.get("status", "")),
            code=str(data.get("code", "")),
            description=str(data.get("description", "")),
            message_ref=str(data.get("ref", "")),
            payload=data,
        )
        if (
            update
            and self.account.channel == ContactChannel.EMAIL
            and update.status == "undelivered"
        ):
            # An e-mail bounce, as an ESP reports one: 5xx hard, anything else soft (E2).
            kind = "hard" if update.code.startswith("5") else "soft"
            update = replace(update, event="bounced", bounce=kind)
        return [update] if update else []

    def parse_inbound_webhook(self, request: HttpRequest) -> list[Inbound]:
        data = self._payload(request)
        if data.get("type") != "inbound" or not data.get("id") or not data.get("from"):
            return []
        channel = (
            str(data["channel"])
            if data.get("channel") in ContactChannel.values
            else self.account.channel
        )
        return [
            Inbound(
                provider_message_id=str(data["id"]),
                from_number=str(data["from"]),
                body=str(data.get("body", "")),
                channel=channel,
                payload=data,
                sent_at=sent_at_of(data.get("timestamp")),
            )
        ]
