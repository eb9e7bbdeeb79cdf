"""What the Twilio SMS and WhatsApp backends share (S2, S6): the client, the send call, webhooks.

Both channels are the same Messages API (``POST /2010-04-01/Accounts/{sid}/Messages.json``)
and the same webhooks; a channel only adds its address prefix (``whatsapp:``) and its own
content (WhatsApp's approved templates). The request goes through the twilio library;
its errors are classified by the HTTP rule in ``http.py`` (429 — Twilio's 20429, "never
processed and always safe to retry" — transient; another 4xx permanent, coded with Twilio's
error code 21211, 21610, 21408 …; 5xx or a lost answer ambiguous, as the Messages API has
no idempotency key; a connection that never opened transient).

Webhooks are signed with ``X-Twilio-Signature`` over the full URL Twilio called plus the
POST parameters (HMAC-SHA1 with the auth token; HMAC-SHA256 with the account's webhook
secret when Twilio says so in ``X-Twilio-Webhooks-Signature-Settings``). Behind a proxy
Django may see another scheme or host than Twilio called, so the URL is rebuilt from
``PUBLIC_BASE_URL`` first. Sources for every field and code: docs/providers.md §1.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.rest import Client

from .base import Accepted, Backend, Inbound, StatusUpdate, TransportError, WebhookRejected
from .http import network_error, retry_after_seconds, status_error

if TYPE_CHECKING:
    from twilio.http.response import Response as TwilioResponse
    from twilio.rest.api.v2010.account.message import MessageInstance

    from ..models import ChannelAccount, OutboundMessage

TWILIO_API_BASE_URL = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# Texts for the asynchronous error codes of status callbacks (which carry only the number),
# so the send log says what happened.
ERROR_TEXTS: dict[str, str] = {
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "message filtered",
    "30008": "unknown error",
    "63014": "blocked by the recipient",
    "63016": "outside the WhatsApp 24-hour window: only an approved template may be sent",
}


def twilio_client_for(
    base_url: str | None,
    account_sid: str,
    auth_token: str,
    timeout: float | None = 10.0,
    *,
    on_response: Callable[[requests.Response], None] | None = None,
) -> Client:
    """Return a real ``twilio.rest.Client`` whose HTTP traffic goes to ``base_url``.

    ``base_url`` is scheme + host[:port] [+ path prefix], e.g. ``"http://127.0.0.1:51234"``;
    ``None`` or ``"https://api.twilio.com"`` gives a stock client talking to Twilio.
    ``timeout`` (seconds, > 0) bounds the connect and the read of every request (the
    library's default is none). ``on_response`` sees every raw ``requests`` response (the
    library keeps no headers on its exceptions, e.g. Retry-After).

    The library builds absolute URLs from hard-coded domain bases (``https://api.twilio.com``,
    ``https://messaging.twilio.com`` …) and hands them to ``client.http_client.request()``;
    ``Client(http_client=...)`` is its supported extension point. The HTTP client given
    here swaps scheme and host of any ``*.twilio.com`` URL for ``base_url`` and keeps path
    and query, so every domain and every edge/region rewrite lands on the same base URL.
    Requests to loopback ignore ``*_PROXY`` environment variables.

    Raises ValueError for a ``base_url`` that is not ``http(s)://host[:port][/prefix]``.
    """
    hooks: dict[str, Any] = (
        {"response": [lambda response, *args, **kwargs: on_response(response)]}
        if on_response
        else {}
    )
    if base_url is None or base_url.rstrip("/") == TWILIO_API_BASE_URL:
        stock = TwilioHttpClient(timeout=timeout, request_hooks=hooks or None)
        return Client(account_sid, auth_token, http_client=stock)

    target = urlsplit(base_url)
    if target.scheme not in ("http", "https") or not target.netloc:
        raise ValueError(
            f"base_url must look like http(s)://host[:port][/prefix], got {base_url!r}"
        )
    prefix = target.path.rstrip("/")

    class _BaseUrlTwilioHttpClient(TwilioHttpClient):
        def request(
            self,
            method: str,
            url: str,
            params: dict[str, object] | None = None,
            data: dict[str, object] | None = None,
            headers: dict[str, str] | None = None,
            auth: tuple[str, str] | None = None,
            timeout: float | None = None,
            allow_redirects: bool = False,
        ) -> TwilioResponse:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            if host == "twilio.com" or host.endswith(".twilio.com"):
                url = urlunsplit(
                    (target.scheme, target.netloc, prefix + parts.path, parts.query, "")
                )
            return super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=auth,
                timeout=timeout,
                allow_redirects=allow_redirects,
            )

    http_client = _BaseUrlTwilioHttpClient(timeout=timeout, request_hooks=hooks or None)
    if http_client.session is not None and _is_loopback(target.hostname):
        http_client.session.trust_env = False  # never route loopback through a proxy
    return Client(account_sid, auth_token, http_client=http_client)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TwilioBackend(Backend):
    """The Messages API for one channel; subclasses set the channel and its address prefix.

    One backend instance (one batch) keeps one client, so its HTTP connection is reused.
    """

    required_fields = {
        "account_id": "Enter the Twilio Account SID (AC…).",
        "secret": "Enter the Twilio auth token.",
        "sender": "Enter the Twilio number (E.164) or Messaging Service SID (MG…) to send from.",
    }
    # How Twilio addresses a number on this channel: "" for SMS, "whatsapp:" for WhatsApp.
    address_prefix: ClassVar[str] = ""
    # Twilio error codes that refuse this message for good whatever the HTTP status says.
    permanent_codes: ClassVar[frozenset[str]] = frozenset()
    # Twilio's MessageStatus → ours.
    status_map = {
        "sent": "sent",
        "delivered": "delivered",
        "read": "delivered",
        "undelivered": "undelivered",
        "failed": "failed",
        "canceled": "failed",
    }
    # Twilio has the message (queued …) or the word belongs to inbound messages (receiving).
    uninformative_statuses = frozenset(
        {"queued", "accepted", "scheduled", "sending", "receiving", "received"}
    )

    @classmethod
    def sms_sender_error(cls, sender: str) -> str | None:
        """Twilio also sends from a Messaging Service (MG + 32 hex)."""
        return None if _is_messaging_service(sender) else super().sms_sender_error(sender)

    def __init__(self, account: ChannelAccount) -> None:
        super().__init__(account)
        self._client: Client | None = None
        self._last_response: requests.Response | None = None

    # --- sending ----------------------------------------------------------------------------
    @property
    def client(self) -> Client:
        """The batch's Twilio client; TransportError (permanent) if the account's API URL is unusable."""
        if self._client is None:
            try:
                self._client = twilio_client_for(
                    self.account.api_base_url or None,
                    self.account.account_id,
                    str(self.account.secret or ""),
                    timeout=self.account.timeout_seconds,
                    on_response=self._remember_response,
                )
            except ValueError as exc:
                raise TransportError(
                    f"the Twilio API URL is not usable: {exc}", code="config", permanent=True
                ) from exc
        return self._client

    def check_credentials(self) -> str:
        """Read the account resource (``GET /2010-04-01/Accounts/{sid}.json``): it needs the credentials, sends nothing."""
        try:
            found = self.client.api.v2010.accounts(self.account.account_id).fetch()
        except TwilioException as exc:
            raise self._api_error(exc) from exc
        finally:
            self.close()
        return gettext("Twilio account %(sid)s is %(status)s") % {
            "sid": found.sid,
            "status": found.status,
        }

    def _remember_response(self, response: requests.Response) -> None:
        self._last_response = response

    def close(self) -> None:
        if self._client is not None and isinstance(self._client.http_client, TwilioHttpClient):
            session = self._client.http_client.session
            if session is not None:
                session.close()
        self._client = None

    def address(self, number: str) -> str:
        """Return ``number`` as Twilio addresses it on this channel."""
        return f"{self.address_prefix}{number}"

    def bare_number(self, address: str) -> str:
        """Return the phone number of a Twilio address (without the channel prefix)."""
        return address.removeprefix(self.address_prefix) if self.address_prefix else address

    def content_params(self, message: OutboundMessage) -> dict[str, Any]:
        """Return what the message says, as ``messages.create`` keywords (the text, by default)."""
        return {"body": message.body}

    def build_request(self, message: OutboundMessage) -> dict[str, Any]:
        """Return the keywords of ``client.messages.create`` for ``message``."""
        params: dict[str, Any] = {
            "to": self.address(message.to),
            "status_callback": self.status_callback_url(message),
            **self.content_params(message),
        }
        sender = self.account.sender
        if _is_messaging_service(sender):
            params["messaging_service_sid"] = sender
        else:
            params["from_"] = self.address(sender)
        return params

    def transmit(self, request: dict[str, Any], message: OutboundMessage) -> MessageInstance:
        """Create the message at Twilio; the library's errors are classified by the HTTP rule."""
        self._last_response = None
        try:
            return self.client.messages.create(**request)
        except TwilioException as exc:
            raise self._api_error(exc) from exc
        except requests.RequestException as exc:
            raise network_error(exc, "Twilio") from exc

    def parse_accepted(self, answer: MessageInstance, request: dict[str, Any]) -> Accepted:
        status = str(answer.status or "")
        return self.accepted(
            answer.sid or "",
            provider_status=status,
            payload={"status": status, "num_segments": answer.num_segments},
        )

    def _api_error(self, exc: TwilioException) -> TransportError:
        status = getattr(exc, "status", None)
        code = str(getattr(exc, "code", "") or "")
        # TwilioRestException has .msg ("Unable to create record: …"); the RFC 9457 kind has title/detail.
        detail = getattr(exc, "msg", "") or ": ".join(
            str(part) for part in (getattr(exc, "title", ""), getattr(exc, "detail", "")) if part
        )
        if not isinstance(status, int):
            return TransportError(
                f"the Twilio library failed ({type(exc).__name__}); the message may have been sent",
                code=code or "twilio",
                ambiguous=True,
            )
        text = (
            f"Twilio answered {status}"
            + (f" (error {code})" if code else "")
            + (f": {detail}" if detail else "")
        )
        if code in self.permanent_codes:
            return TransportError(text, code=code, permanent=True)
        headers = self._last_response.headers if self._last_response is not None else {}
        return status_error(
            status, text, code=code, retry_after=retry_after_seconds(headers.get("Retry-After"))
        )

    # --- webhooks ---------------------------------------------------------------------------
    def verify_webhook(self, request: HttpRequest) -> None:
        """Accept only a request whose ``X-Twilio-Signature`` matches; raise WebhookRejected otherwise.

        The signature covers the URL Twilio called: ``PUBLIC_BASE_URL`` + path and query is
        tried first, the URL Django sees second.
        """
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            raise WebhookRejected(f"no {SIGNATURE_HEADER} header")
        signing = request.headers.get(SIGNATURE_SETTINGS_HEADER, "")
        # SharedKey signing names itself in the settings header; otherwise the auth token signs.
        secret = str((self.account.webhook_secret if signing else self.account.secret) or "")
        if not secret:
            raise WebhookRejected(
                f"the account “{self.account.name}” has no secret to check Twilio's signature with"
            )
        validator = RequestValidator(secret)
        algorithm = get_signature_algorithm(signing)
        for url in _signed_url_candidates(request):
            if validator.validate(url, request.POST, signature, algorithm):
                return
        raise WebhookRejected(f"{SIGNATURE_HEADER} does not match")

    def parse_status_webhook(self, request: HttpRequest) -> list[StatusUpdate]:
        """Read one status callback."""
        data = request.POST
        code = data.get("ErrorCode", "")
        update = self.status_update(
            provider_message_id=data.get("MessageSid") or data.get("SmsSid") or "",
            provider_status=data.get("MessageStatus") or data.get("SmsStatus") or "",
            code=code,
            description=data.get("ErrorMessage")
            or ERROR_TEXTS.get(code, f"Twilio error {code}" if code else ""),
            message_ref=request.GET.get("m", ""),
            payload=data.dict(),
        )
        return [update] if update else []

    def parse_inbound_webhook(self, request: HttpRequest) -> list[Inbound]:
        """Read one incoming message (From, Body, MessageSid) on this backend's channel."""
        data = request.POST
        sid = data.get("MessageSid") or data.get("SmsMessageSid") or ""
        sender = data.get("From", "")
        if not sid or not sender:
            return []
        return [
            Inbound(
                provider_message_id=sid,
                from_number=self.bare_number(sender),
                body=data.get("Body", ""),
                channel=self.channels[0],
                payload=data.dict(),
            )
        ]

    def inbound_response(self) -> HttpResponse:
        """Answer with empty TwiML: Twilio replies nothing itself (our auto-reply goes as a message)."""
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _is_messaging_service(sender: str) -> bool:
    return (
        len(sender) == 34
        and sender.startswith("MG")
        and all(c in "0123456789abcdef" for c in sender[2:].lower())
    )


def _signed_url_candidates(request: HttpRequest) -> list[str]:
    public = f"{str(settings.PUBLIC_BASE_URL).rstrip('/')}{request.get_full_path()}"
    seen = request.build_absolute_uri()
    return [public] if seen == public else [public, seen]
