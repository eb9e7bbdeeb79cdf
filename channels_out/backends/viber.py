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
v1, signed webhooks on). Guests' answers come to the Messages *inbound* URL,
``{PUBLIC_BASE_URL}/hooks/<account id>/inbound/``, signed the same way. Sources for every
field: docs/providers.md §2.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from typing import TYPE_CHECKING, Any

import jwt
import requests
from django.utils.translation import gettext
from jwt.warnings import InsecureKeyLengthWarning

from guests.models import ConsentPurpose, ContactChannel

from .base import Accepted, Inbound, StatusUpdate, TransportError, WebhookRejected, sent_at_of
from .http import ApiRequest, HttpBackend, network_error

if TYPE_CHECKING:
    from django.http import HttpRequest

    from ..models import ChannelAccount, OutboundMessage

DEFAULT_API_BASE_URL = "https://api.nexmo.com"
# The Account API (balance) lives on the REST host, not the Messages API's.
DEFAULT_ACCOUNT_BASE_URL = "https://rest.nexmo.com"
# Vonage accepts a Viber TTL of 30 s … 3 days (viber_service.ttl).
MIN_TTL_SECONDS = 30
MAX_TTL_SECONDS = 259_200
# A signed webhook's iat may be this far ahead of our clock.
CLOCK_SKEW_SECONDS = 300


class VonageViberBackend(HttpBackend):
    name = "vonage_viber"
    label = "Vonage Viber"
    provider = "Vonage"
    channels = (ContactChannel.VIBER,)
    required_fields = {
        "account_id": "Enter the Vonage API key.",
        "secret": "Enter the Vonage API secret.",
        "sender": "Enter the Viber service message ID Vonage gave this account.",
        "webhook_secret": "Enter the Vonage signature secret: without it no delivery receipt can be trusted.",
    }
    # Vonage charges a Viber message only when it is delivered.
    debit_on_delivery = frozenset({ContactChannel.VIBER})
    accepted_statuses = frozenset({202})
    # Vonage's status words → ours. A rejection of any kind (not a Viber user, no suitable
    # device, blocked, TTL over) means Viber will not carry this message: "failed" releases
    # its credits (Vonage charges Viber only when delivered) and starts the plan's next step.
    status_map = {
        "submitted": "sent",
        "delivered": "delivered",
        "read": "delivered",
        "rejected": "failed",
        "undeliverable": "failed",
    }

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

    # --- checking the account -----------------------------------------------------------------
    @property
    def balance_url(self) -> str:
        """The Account API's balance (``GET /account/get-balance``): on the REST host, or on
        the account's own API address when one is set (a proxy, the local fake)."""
        base = (self.account.api_base_url or DEFAULT_ACCOUNT_BASE_URL).rstrip("/")
        return f"{base}/account/get-balance"

    def check_credentials(self) -> str:
        """Read the account balance (``GET /account/get-balance``, Basic auth with the API key
        and secret): it needs the credentials, sends and costs nothing. Vonage answers
        ``200 {"value": 10.28, "autoReload": false}``, 401 on wrong credentials."""
        try:
            answer = requests.get(
                self.balance_url,
                auth=(self.account.account_id, str(self.account.secret)),
                headers={"Accept": "application/json"},
                timeout=self.account.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise network_error(exc, self.provider) from exc
        if answer.status_code == 401:
            raise TransportError(
                gettext("Vonage answered 401: the API key or secret is wrong"),
                code="401",
                permanent=True,
            )
        if answer.status_code != 200:
            text, code = self.refusal(answer)
            raise TransportError(text, code=code)
        try:
            data = answer.json()
        except ValueError:
            data = None
        value = data.get("value") if isinstance(data, dict) else None
        if not isinstance(value, int | float):
            raise TransportError(gettext("Vonage answered without a balance"), code="no-balance")
        return gettext("Vonage API key %(key)s works (balance %(balance)s EUR)") % {
            "key": self.account.account_id,
            "balance": f"{value:.2f}",
        }

    # --- sending ----------------------------------------------------------------------------
    @property
    def messages_url(self) -> str:
        return f"{(self.account.api_base_url or DEFAULT_API_BASE_URL).rstrip('/')}/v1/messages"

    def build_request(self, message: OutboundMessage) -> ApiRequest:
        """Return the send request for ``message``: ``POST /v1/messages`` with Basic auth."""
        ttl = min(max(self.account.ttl, MIN_TTL_SECONDS), MAX_TTL_SECONDS)
        category = "promotion" if message.purpose == ConsentPurpose.MARKETING else "transaction"
        return ApiRequest(
            "POST",
            self.messages_url,
            json={
                "message_type": "text",
                "channel": "viber_service",
                "to": message.to.lstrip("+"),
                "from": self.account.sender,
                "text": message.body,
                "client_ref": str(message.pk),
                "viber_service": {"category": category, "ttl": ttl},
                "webhook_url": self.status_callback_url(message),
                "webhook_version": "v1",
            },
            auth=(self.account.account_id, str(self.account.secret)),
            headers={"Accept": "application/json"},
        )

    def parse_accepted(self, answer: requests.Response, request: ApiRequest) -> Accepted:
        """Vonage answers ``202 {"message_uuid": …}``."""
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = {}
        return self.accepted(
            str(data.get("message_uuid") or ""), provider_status="accepted", payload=data
        )

    def refusal(self, answer: requests.Response) -> tuple[str, str]:
        """Read Vonage's problem details (RFC 7807): title, detail, invalid parameters, and
        the code in the fragment of its type ("…#1150", "…#low-balance")."""
        try:
            problem = answer.json()
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            problem = {}
        title = str(problem.get("title") or answer.reason or "")
        detail = str(problem.get("detail") or "")
        text = (
            f"Vonage answered {answer.status_code}"
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
        type_ = str(problem.get("type") or "")
        fragment = type_.rpartition("#")[2] if "#" in type_ else ""
        code = (fragment or str(problem.get("title") or "") or str(answer.status_code))[:40]
        return text, code

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
        """Read one Messages API v1 status webhook."""
        try:
            data = json.loads(request.body)
        except ValueError:
            return []
        if not isinstance(data, dict):
            return []
        code, description = _error_of(data.get("error"))
        update = self.status_update(
            provider_message_id=str(data.get("message_uuid") or ""),
            provider_status=str(data.get("status", "")),
            code=code,
            description=description,
            message_ref=str(data.get("client_ref") or ""),
            payload=data,
        )
        return [update] if update else []

    def parse_inbound_webhook(self, request: HttpRequest) -> list[Inbound]:
        """Read one Messages API v1 inbound message (a guest's Viber text): ``message_uuid``,
        ``from`` (the number, without "+"), ``timestamp`` (ISO 8601, UTC) and ``text``."""
        try:
            data = json.loads(request.body)
        except ValueError:
            return []
        if not isinstance(data, dict) or data.get("channel", "viber_service") != "viber_service":
            return []
        uuid, sender = str(data.get("message_uuid") or ""), str(data.get("from") or "")
        if not uuid or not sender.lstrip("+").isdigit():
            return []
        return [
            Inbound(
                provider_message_id=uuid,
                from_number=f"+{sender.lstrip('+')}",
                body=str(data.get("text") or ""),
                channel=ContactChannel.VIBER,
                payload=data,
                sent_at=sent_at_of(data.get("timestamp")),
            )
        ]


def _error_of(error: Any) -> tuple[str, str]:
    """Return (code, description) of a status webhook's error, in the v1 or the old v0.1 shape."""
    if not isinstance(error, dict):
        return "", ""
    code = error.get("title", error.get("code", ""))
    description = error.get("detail", error.get("reason", ""))
    return str(code if code is not None else "")[:40], str(description or "")
