"""Viber business messages through the Vonage Messages API v1 (S2, S3, S6).

Sending is one ``POST {api_base_url}/v1/messages`` with HTTP Basic auth (API key and
secret); Vonage answers ``202 {"message_uuid": …}``. Whether the guest can be reached on
Viber is only known later: "not a Viber user" (1300), "no suitable device" (1310), a
block, or the TTL running out (1360) arrive as a ``rejected`` status webhook, which we
read as "failed" so the plan's next step (the SMS fallback) goes at once. Without any
receipt within the TTL the dispatcher's sweeper starts the SMS itself.

Webhooks: Vonage signs them with a JWT (HS256, the account's *signature secret*, not the
API secret) in ``Authorization: Bearer …`` whose ``payload_hash`` claim is the SHA-256 of
the body. Each message names its status URL (``webhook_url``, our status webhook for the
account), but Vonage documents that Basic-auth sends do not support webhooks: set the
same URL, ``{PUBLIC_BASE_URL}/hooks/<account id>/status/``, as the account's Messages
status URL in the Vonage dashboard (Settings → API settings → Messages, webhook version
v1, signed webhooks on). Sources for every field: docs/providers.md §2.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from typing import TYPE_CHECKING, Any

import jwt
import requests
from jwt.warnings import InsecureKeyLengthWarning

from guests.models import ConsentPurpose, ContactChannel

from .base import Accepted, Backend, StatusUpdate, TransportError, WebhookRejected
from .http import network_error, retry_after_seconds

if TYPE_CHECKING:
    from django.http import HttpRequest

    from ..models import ChannelAccount, OutboundMessage

DEFAULT_API_BASE_URL = "https://api.nexmo.com"
# Vonage accepts a Viber TTL of 30 s … 3 days (viber_service.ttl).
MIN_TTL_SECONDS = 30
MAX_TTL_SECONDS = 259_200
# A signed webhook's iat may be this far ahead of our clock.
CLOCK_SKEW_SECONDS = 300

# Vonage's status words → ours. A rejection of any kind (not a Viber user, no suitable
# device, blocked, TTL over) means Viber will not carry this message: "failed" releases its
# credits (Vonage charges Viber only when delivered) and starts the plan's next step.
STATUS_MAP: dict[str, str] = {
    "submitted": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "rejected": "failed",
    "undeliverable": "failed",
}


class VonageViberBackend(Backend):
    name = "vonage_viber"
    label = "Vonage Messages (Viber)"
    channels = (ContactChannel.VIBER,)
    required_fields = {
        "account_id": "Enter the Vonage API key.",
        "secret": "Enter the Vonage API secret.",
        "sender": "Enter the Viber service message ID Vonage gave this account.",
        "webhook_secret": "Enter the Vonage signature secret: without it no delivery receipt can be trusted.",
    }
    # Vonage charges a Viber message only when it is delivered.
    debit_on_delivery = frozenset({ContactChannel.VIBER})

    @classmethod
    def account_errors(cls, account: ChannelAccount) -> dict[str, str]:
        errors = super().account_errors(account)
        if account.sender and not account.sender.isdigit():
            errors["sender"] = (
                "Vonage sends Viber from the numeric service message ID it assigned (e.g. 16273)."
            )
        if account.ttl_seconds and not MIN_TTL_SECONDS <= account.ttl_seconds <= MAX_TTL_SECONDS:
            errors["ttl_seconds"] = (
                f"Vonage takes a Viber TTL of {MIN_TTL_SECONDS} s to {MAX_TTL_SECONDS} s (3 days)."
            )
        return errors

    # --- sending ----------------------------------------------------------------------------
    @property
    def messages_url(self) -> str:
        return f"{(self.account.api_base_url or DEFAULT_API_BASE_URL).rstrip('/')}/v1/messages"

    def build_payload(self, message: OutboundMessage) -> dict[str, Any]:
        """Return the JSON body of the send request for ``message``."""
        ttl = min(max(self.account.ttl, MIN_TTL_SECONDS), MAX_TTL_SECONDS)
        category = "promotion" if message.purpose == ConsentPurpose.MARKETING else "transaction"
        return {
            "message_type": "text",
            "channel": "viber_service",
            "to": message.to.lstrip("+"),
            "from": self.account.sender,
            "text": message.body,
            "client_ref": str(message.pk),
            "viber_service": {"category": category, "ttl": ttl},
            "webhook_url": self.status_callback_url(message),
            "webhook_version": "v1",
        }

    def send(self, message: OutboundMessage) -> Accepted:
        """Post ``message`` to Vonage; return its message_uuid or raise TransportError.

        429 is transient (with Retry-After); 401, 402, 422 and other 4xx are permanent, coded
        with the problem-details type; 5xx, a read timeout or a connection dropped after the
        request went out are ambiguous; a connection that never opened is transient.
        """
        try:
            response = requests.post(
                self.messages_url,
                json=self.build_payload(message),
                auth=(self.account.account_id, str(self.account.secret)),
                headers={"Accept": "application/json"},
                timeout=self.account.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise network_error(exc, "Vonage") from exc
        if response.status_code == 202:
            try:
                data = response.json()
            except ValueError:
                data = None
            if not isinstance(data, dict) or not data.get("message_uuid"):
                raise TransportError(
                    "Vonage accepted the message without a message_uuid", code="202", ambiguous=True
                )
            return Accepted(
                provider_message_id=str(data["message_uuid"]),
                provider_status="accepted",
                payload=data,
            )
        raise _http_error(response)

    # --- webhooks ---------------------------------------------------------------------------
    def verify_webhook(self, request: HttpRequest) -> None:
        """Accept only a request whose JWT verifies with the signature secret and whose
        ``payload_hash`` is the SHA-256 of the body; raise WebhookRejected otherwise.

        A stale ``iat`` is not refused: a replayed receipt changes nothing, statuses only
        move forward.
        """
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise WebhookRejected("no Bearer token in the Authorization header")
        secret = str(self.account.webhook_secret or "")
        if not secret:
            raise WebhookRejected(
                f"the account “{self.account.name}” has no Vonage signature secret"
            )
        with warnings.catch_warnings():
            # Vonage lets signature secrets be short; PyJWT warns below 32 bytes.
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            try:
                claims = jwt.decode(
                    token.strip(),
                    secret,
                    algorithms=["HS256"],
                    leeway=CLOCK_SKEW_SECONDS,
                    options={"require": ["iat", "payload_hash"]},
                )
            except jwt.PyJWTError as exc:
                raise WebhookRejected(f"the webhook token does not verify: {exc}") from exc
        expected = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(str(claims["payload_hash"]).lower(), expected):
            raise WebhookRejected("payload_hash does not match the body")
        api_key = claims.get("api_key")
        if api_key and self.account.account_id and api_key != self.account.account_id:
            raise WebhookRejected("the webhook is for another Vonage API key")

    def parse_status_webhook(self, request: HttpRequest) -> list[StatusUpdate]:
        """Read one Messages API v1 status webhook; statuses we do not know are ignored."""
        try:
            data = json.loads(request.body)
        except ValueError:
            return []
        if not isinstance(data, dict) or not data.get("message_uuid"):
            return []
        provider_status = str(data.get("status", "")).lower()
        status = STATUS_MAP.get(provider_status)
        if status is None:
            return []
        code, description = _error_of(data.get("error"))
        return [
            StatusUpdate(
                provider_message_id=str(data["message_uuid"]),
                status=status,
                provider_status=provider_status,
                code=code,
                description=description,
                message_ref=str(data.get("client_ref") or ""),
                payload=data,
            )
        ]


def _problem_code(problem: dict[str, Any], status: int) -> str:
    """The error's code: the fragment of its problem type ("1150", "low-balance"), else its title."""
    type_ = str(problem.get("type") or "")
    fragment = type_.rpartition("#")[2] if "#" in type_ else ""
    return (fragment or str(problem.get("title") or "") or str(status))[:40]


def _http_error(response: requests.Response) -> TransportError:
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        problem = {}
    status = response.status_code
    title = str(problem.get("title") or response.reason or "")
    detail = str(problem.get("detail") or "")
    text = (
        f"Vonage answered {status}"
        + (f" {title}" if title else "")
        + (f": {detail}" if detail else "")
    )
    invalid = problem.get("invalid_parameters")
    if isinstance(invalid, list) and invalid:
        text += (
            " ("
            + "; ".join(
                f"{p.get('name')}: {p.get('reason')}" for p in invalid if isinstance(p, dict)
            )
            + ")"
        )
    code = _problem_code(problem, status)
    if status == 429:
        return TransportError(
            text, code=code, retry_after=retry_after_seconds(response.headers.get("Retry-After"))
        )
    if 400 <= status < 500:
        return TransportError(text, code=code, permanent=True)
    if status >= 500:
        return TransportError(text + "; the message may have been sent", code=code, ambiguous=True)
    # A 1xx/2xx/3xx other than 202 is not how this API answers: do not guess either way.
    return TransportError(text, code=code or str(status), ambiguous=True)


def _error_of(error: Any) -> tuple[str, str]:
    """Return (code, description) of a status webhook's error, in the v1 or the old v0.1 shape."""
    if not isinstance(error, dict):
        return "", ""
    code = error.get("title", error.get("code", ""))
    description = error.get("detail", error.get("reason", ""))
    return str(code if code is not None else "")[:40], str(description or "")
