"""A loopback fake of the Vonage Messages API v1, for the Viber channel.

* ``POST /v1/messages`` (JSON; ``channel: "viber_service"``, ``message_type``,
  ``to``, ``from``, ``text``, ``viber_service: {category, ttl, type, action}``,
  ``client_ref``, ``webhook_url``) -> ``202 {"message_uuid": "<uuid4>"}``.
* Auth: HTTP Basic ``api_key:api_secret``; optionally a Bearer application JWT
  (RS256) when the fake is given the application's public key.
* Errors in Vonage's RFC 7807 problem-details shape (``type``, ``title``,
  ``detail``, ``instance`` [+ ``invalid_parameters``]).
* Status webhooks (``submitted`` / ``delivered`` / ``read`` / ``rejected`` /
  ``undeliverable``) POSTed as JSON to the status URL and signed the way Vonage
  signs Messages API webhooks: ``Authorization: Bearer <JWT>``, HS256 with the
  account's *signature secret*, claims ``iat``, ``jti``, ``iss="Vonage"``,
  ``payload_hash`` (SHA-256 hex of the body), ``api_key``, ``application_id``.

* ``GET /account/get-balance`` (the Account API, ``rest.nexmo.com`` in production) with
  ``api_key``/``api_secret`` as query parameters or HTTP Basic -> ``200 {"value": 10.28,
  "autoReload": false}``; ``401`` on wrong or missing credentials. Reading it changes
  nothing (no message, no charge).

Per-recipient failures of Viber (not a Viber user, no suitable device, TTL
expired ...) are *asynchronous*: Vonage answers 202 and later sends a
``rejected`` status webhook whose ``error.title`` is the numeric Messages API
error code (1300, 1310, 1360 ...).  See docs/providers.md for sources.

Usage::

    with running_fake_vonage(API_KEY, API_SECRET, SIG_SECRET, status_url=url) as fake:
        fake.script(VonageOutcome.not_viber_user())
        r = requests.post(fake.messages_url, json={...}, auth=(API_KEY, API_SECRET))
        fake.wait_for_callbacks(1)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import jwt  # PyJWT (installed as a dependency of twilio)

from ._server import (
    CallbackRecord,
    FakeProviderServer,
    Outcome,
    RecordedRequest,
    Response,
    json_response,
    post_webhook,
)

__all__ = [
    "VONAGE_MESSAGES_ERRORS",
    "FakeVonageMessages",
    "VonageOutcome",
    "running_fake_vonage",
    "signed_webhook",
    "status_webhook_payload",
]

#: Messages API error codes (as they appear in status webhooks' ``error.title``)
#: -> description, verbatim from Vonage's published error list (x-errors of the
#: Messages API spec; https://developer.vonage.com/api-errors/messages).
VONAGE_MESSAGES_ERRORS: dict[int, str] = {
    1000: "Throttled - You have exceeded the submission capacity allowed on this account. Please wait and retry",
    1010: "Missing params - Your request is incomplete and missing some mandatory parameters.",
    1020: "Invalid params - The value of one or more parameters is invalid.",
    1030: "Internal error - There was an error processing your request in the Platform.",
    1040: "Invalid message - The Platform was unable to process your request. For example, due to an unrecognised prefix for the phone number.",
    1050: "Number barred - The number you are trying to submit to is blacklisted and may not receive messages.",
    1060: "Partner account barred - The api_key you supplied is for an account that has been barred from submitting messages.",
    1070: "Partner quota exceeded - Your pre-paid account does not have sufficient credit to process this message.",
    1120: "Illegal Sender Address - rejected - Due to local regulations, the SenderID you set in from in the request was not accepted.",
    1130: "Invalid TTL - The value of ttl in your request was invalid.",
    1170: "Invalid or Missing Msisdn Param - The phone number you supplied in the to parameter of your request was either missing or invalid.",
    1180: "Absent Subscriber Temporary - This message was not delivered because to was temporarily unavailable. For example, the handset used for to was out of coverage or switched off. This is a temporary failure, retry later for a positive result.",
    1190: "Absent Subscriber Permanent - to is no longer active, You should remove this phone number from your database.",
    1230: "Network Error - A network failure while sending your message. This is a temporary failure, retry later for a positive result.",
    1240: "Illegal Number - You tried to send a message to a blacklisted phone number. That is, the user has already sent a STOP opt-out message and no longer wishes to receive messages from you.",
    1260: "Destination unreachable - The message could not be delivered to the phone number. If using Viber Service Messages your account might not be enabled for this country.",
    1300: "Not part of the provider network - The number or ID is not a user in the provider network.",
    1310: "Not suitable device - The user's device can't receive the message.",
    1320: "Message already sent - The message was already sent.",
    1330: "Unknown - An unknown error was received from the carrier who tried to send this this message. Depending on the carrier, that to is unknown. When you see this error, and status is rejected, always check if to in your request was valid.",
    1331: "Provider error - The provider is not responding or unable to process the request. Please try sending your message in a few minutes time.",
    1340: "Outside of the allowed window - This message is sent outside of allowed response window.",
    1360: "TTL was activated - TTL was activated, no callbacks and no charge will be issued.",
}

_ERROR_TYPE_BASE = "https://developer.vonage.com/api-errors/messages#"
_VIBER_MESSAGE_TYPES = {"text", "image", "video", "file"}


def _timestamp() -> str:
    """``2020-01-01T14:00:00.000Z`` as in Vonage's examples."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _instance() -> str:
    return uuid.uuid4().hex


def problem(
    type_: str,
    title: str,
    detail: str,
    invalid_parameters: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """An RFC 7807 body as the Messages API sends it."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "detail": detail,
        "instance": _instance(),
    }
    if invalid_parameters:
        body["invalid_parameters"] = [dict(p) for p in invalid_parameters]
    return body


def _norm_callbacks(specs: Sequence[Any]) -> tuple[tuple[str, int | None], ...]:
    out: list[tuple[str, int | None]] = []
    for spec in specs:
        if isinstance(spec, str):
            out.append((spec, None))
        else:
            status, code = spec
            out.append((status, code))
    return tuple(out)


class VonageOutcome:
    """Builders for scripted outcomes (pass them to ``FakeVonageMessages.script``)."""

    @staticmethod
    def accept(
        *,
        callbacks: Sequence[str | tuple[str, int | None]] = (),
        callback_delay: float = 0.0,
        delay: float = 0.0,
    ) -> Outcome:
        """202 + message_uuid; then post each ``(status, error_code)`` webhook."""
        return Outcome(
            "accept",
            delay=delay,
            callbacks=_norm_callbacks(callbacks),
            callback_delay=callback_delay,
            label="accept",
        )

    @staticmethod
    def delay(seconds: float, **kwargs: Any) -> Outcome:
        """Accept the message but answer only after ``seconds``."""
        return VonageOutcome.accept(delay=seconds, **kwargs)

    @staticmethod
    def error(
        http_status: int,
        title: str,
        detail: str,
        *,
        type_: str | None = None,
        invalid_parameters: Sequence[Mapping[str, str]] | None = None,
        delay: float = 0.0,
    ) -> Outcome:
        body = problem(
            type_ or "https://developer.vonage.com/api-errors#", title, detail, invalid_parameters
        )
        return Outcome(
            "error", http_status=http_status, body=body, delay=delay, label=f"{http_status}"
        )

    @staticmethod
    def disconnect(*, delay: float = 0.0) -> Outcome:
        return Outcome("disconnect", delay=delay, label="disconnect")

    # -- synchronous presets (bodies from Vonage SDK fixtures; see docs) -------------
    @staticmethod
    def unauthorized() -> Outcome:
        return Outcome("error", http_status=401, body=_unauthorized_body(), label="401")

    @staticmethod
    def invalid_params(name: str = "to", reason: str = "invalid value") -> Outcome:
        return VonageOutcome.error(
            422,
            "Invalid params",
            "The value of one or more parameters is invalid.",
            type_=_ERROR_TYPE_BASE + "1150",
            invalid_parameters=[{"name": name, "reason": reason}],
        )

    @staticmethod
    def invalid_sender() -> Outcome:
        return VonageOutcome.error(
            422,
            "Invalid sender",
            "The `from` parameter is invalid for the given channel.",
            type_=_ERROR_TYPE_BASE + "1120",
        )

    @staticmethod
    def rate_limited() -> Outcome:
        return VonageOutcome.error(
            429,
            "Rate Limit Hit",
            "Please wait, then retry your request",
            type_="https://developer.nexmo.com/api-errors/messages-olympus#1010",
        )

    @staticmethod
    def low_balance() -> Outcome:
        return VonageOutcome.error(
            402,
            "Low balance",
            "This request could not be performed due to your account balance being low.",
            type_="https://developer.nexmo.com/api-errors/#low-balance",
        )

    @staticmethod
    def server_error(http_status: int = 500) -> Outcome:
        # Shape as documented; exact type/title of Vonage's 5xx bodies not verified.
        return VonageOutcome.error(
            http_status,
            "Internal Error",
            "There was an error processing your request in the Platform.",
            type_=_ERROR_TYPE_BASE + "1030",
        )

    # -- asynchronous presets: 202, then status webhooks -------------------------------
    @staticmethod
    def delivered(read: bool = False, **kwargs: Any) -> Outcome:
        seq: tuple[str, ...] = ("submitted", "delivered") + (("read",) if read else ())
        return VonageOutcome.accept(callbacks=seq, **kwargs)

    @staticmethod
    def not_viber_user(**kwargs: Any) -> Outcome:
        """Recipient has no Viber account: 202, then ``rejected`` with error 1300."""
        return VonageOutcome.accept(callbacks=(("rejected", 1300),), **kwargs)

    @staticmethod
    def no_suitable_device(**kwargs: Any) -> Outcome:
        """Recipient's Viber cannot show business messages: ``rejected`` / 1310."""
        return VonageOutcome.accept(callbacks=(("rejected", 1310),), **kwargs)

    @staticmethod
    def user_blocked(code: int = 1330, **kwargs: Any) -> Outcome:
        """Recipient blocked the sender.  UNVERIFIED: Vonage documents no dedicated
        code for Viber's SRVC_USER_BLOCKED; 1330 ("Unknown") is an assumption."""
        return VonageOutcome.accept(callbacks=(("rejected", code),), **kwargs)

    @staticmethod
    def ttl_expired(**kwargs: Any) -> Outcome:
        """Not delivered within ``viber_service.ttl``: ``submitted`` then ``rejected`` / 1360."""
        return VonageOutcome.accept(callbacks=("submitted", ("rejected", 1360)), **kwargs)

    @staticmethod
    def undeliverable(code: int | None = None, **kwargs: Any) -> Outcome:
        """Vonage could not reach the provider: status ``undeliverable``."""
        return VonageOutcome.accept(callbacks=(("undeliverable", code),), **kwargs)


def _unauthorized_body() -> dict[str, Any]:
    # Verbatim from Vonage's Java SDK test fixture (typo "unathorized" included).
    return problem(
        "https://developer.nexmo.com/api-errors/#unathorized",
        "You did not provide correct credentials.",
        "Check that you're using the correct credentials, and that your account has this feature enabled",
    )


def status_webhook_payload(
    message_uuid: str,
    to: str,
    from_: str,
    status: str,
    error_code: int | None = None,
    *,
    channel: str = "viber_service",
    client_ref: str | None = None,
    usage: Mapping[str, str] | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A Messages API v1 message-status webhook body."""
    payload: dict[str, Any] = {
        "message_uuid": message_uuid,
        "to": to,
        "from": from_,
        "timestamp": timestamp or _timestamp(),
        "status": status,
        "channel": channel,
    }
    if error_code is not None:
        payload["error"] = {
            "type": f"{_ERROR_TYPE_BASE}{error_code}",
            "title": error_code,
            "detail": VONAGE_MESSAGES_ERRORS.get(error_code, f"Error {error_code}"),
            "instance": _instance(),
        }
    if usage is not None:
        payload["usage"] = dict(usage)
    if client_ref is not None:
        payload["client_ref"] = client_ref
    return payload


def signed_webhook(
    payload: Mapping[str, Any] | bytes,
    signature_secret: str,
    api_key: str,
    application_id: str | None = None,
    *,
    iat: int | None = None,
) -> tuple[dict[str, str], bytes]:
    """Serialise ``payload`` (or take raw bytes) and sign it as Vonage signs
    Messages API webhooks; return ``(headers, body)``.

    For Django's test client::

        headers, body = signed_webhook(payload, SIG_SECRET, API_KEY)
        client.post("/hooks/vonage/status/", data=body,
                    content_type="application/json", headers=headers)
    """
    body = (
        payload
        if isinstance(payload, bytes)
        else json.dumps(payload, separators=(",", ":")).encode("utf-8")
    )
    claims: dict[str, Any] = {
        "iat": int(time.time()) if iat is None else iat,
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": api_key,
    }
    if application_id is not None:
        claims["application_id"] = application_id
    token = jwt.encode(claims, signature_secret, algorithm="HS256")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return headers, body


class FakeVonageMessages(FakeProviderServer):
    """The fake server.  Use :func:`running_fake_vonage` to get a started one."""

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        signature_secret: str,
        *,
        status_url: str | None = None,
        application_id: str | None = None,
        application_public_key: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.api_key = api_key
        self.api_secret = api_secret
        self.signature_secret = signature_secret
        self.status_url = status_url
        self.application_id = application_id
        self.application_public_key = application_public_key
        self._messages: dict[str, dict[str, Any]] = {}
        self._msg_lock = threading.Lock()
        #: The account balance in EUR; only messages would change it, never a balance read.
        self.balance = 10.28

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/v1/messages"

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        """Accepted messages by uuid: the request body plus ``status`` history."""
        with self._msg_lock:
            return {k: dict(v) for k, v in self._messages.items()}

    def signed_webhook(self, payload: Mapping[str, Any] | bytes) -> tuple[dict[str, str], bytes]:
        """:func:`signed_webhook` with this fake's secret, api key and application id."""
        return signed_webhook(payload, self.signature_secret, self.api_key, self.application_id)

    def callback(
        self,
        message_uuid: str,
        status: str,
        error_code: int | None = None,
        *,
        url: str | None = None,
        usage: Mapping[str, str] | None = None,
    ) -> CallbackRecord:
        """POST a signed status webhook for ``message_uuid`` to ``url``, the
        message's ``webhook_url`` or the fake's ``status_url``."""
        with self._msg_lock:
            msg = self._messages[message_uuid]
            target = url or msg.get("webhook_url") or self.status_url
            if not target:
                raise ValueError("no status URL: pass url= or set status_url")
            msg["statuses"].append(status)
            msg["status"] = status
            payload = status_webhook_payload(
                message_uuid,
                msg["to"],
                msg["from"],
                status,
                error_code,
                channel=msg["channel"],
                client_ref=msg.get("client_ref"),
                usage=usage,
            )
        headers, body = self.signed_webhook(payload)
        return self._record_callback(post_webhook(target, body, headers, payload))

    # -- internals -------------------------------------------------------------
    def _auto_callbacks(
        self, message_uuid: str, specs: tuple[tuple[str, int | None], ...], pause: float
    ) -> None:
        for status, code in specs:
            if not self._sleep(pause):
                return
            usage = {"currency": "EUR", "price": "0.0333"} if status == "delivered" else None
            try:
                self.callback(message_uuid, status, code, usage=usage)
            except ValueError:
                with self._msg_lock:
                    self._messages[message_uuid]["statuses"].append(status)
                    self._messages[message_uuid]["status"] = status

    def _authorized(self, req: RecordedRequest) -> bool:
        if req.auth is not None:
            return req.auth == (self.api_key, self.api_secret)
        if req.bearer and self.application_public_key:
            try:
                claims = jwt.decode(req.bearer, self.application_public_key, algorithms=["RS256"])
            except jwt.PyJWTError:
                return False
            return (
                self.application_id is None or claims.get("application_id") == self.application_id
            )
        return False

    @property
    def balance_url(self) -> str:
        return f"{self.base_url}/account/get-balance"

    def _balance(self, req: RecordedRequest) -> Response:
        """The Account API's ``GET /account/get-balance``: credentials as query parameters
        (``api_key``, ``api_secret``) or HTTP Basic."""
        key, secret = (
            (req.query.get("api_key") or [""])[0],
            (req.query.get("api_secret") or [""])[0],
        )
        if req.auth is not None:
            key, secret = req.auth
        if (key, secret) != (self.api_key, self.api_secret):
            return json_response(
                401,
                problem(
                    "https://developer.vonage.com/api-errors#unauthorized",
                    "Unauthorized",
                    "You did not provide correct credentials.",
                ),
            )
        return json_response(200, {"value": self.balance, "autoReload": False})

    def route(self, req: RecordedRequest) -> Response:
        if req.path.rstrip("/") == "/account/get-balance" and req.method == "GET":
            return self._balance(req)
        if req.path.rstrip("/") != "/v1/messages" or req.method != "POST":
            return json_response(
                404,
                problem(
                    "https://developer.vonage.com/api-errors#not-found",
                    "Not Found",
                    f"{req.method} {req.path} does not exist",
                ),
            )
        if not self._authorized(req):
            return json_response(401, _unauthorized_body())
        outcome = self._take_outcome(req.method)
        if outcome is not None and outcome.kind == "disconnect":
            return Response(0, disconnect=True, delay=outcome.delay)
        if outcome is not None and outcome.kind == "error":
            body = dict(outcome.body)
            body["instance"] = _instance()
            return json_response(outcome.http_status, body, delay=outcome.delay)
        resp = self._create(req, outcome)
        if outcome is not None:
            resp.delay = outcome.delay
        return resp

    def _validate(self, body: Any) -> list[dict[str, str]]:
        if not isinstance(body, dict):
            return [{"name": "body", "reason": "must be a JSON object"}]
        bad: list[dict[str, str]] = []
        for name in ("channel", "message_type", "to", "from"):
            if not body.get(name):
                bad.append({"name": name, "reason": "is required"})
        to = str(body.get("to") or "")
        if to and not (to.isdigit() and 7 <= len(to) <= 15):
            bad.append({"name": "to", "reason": "must be an E.164 number without leading + or 00"})
        if body.get("channel") == "viber_service":
            mtype = body.get("message_type")
            if mtype and mtype not in _VIBER_MESSAGE_TYPES:
                bad.append(
                    {"name": "message_type", "reason": f"{mtype!r} not supported for viber_service"}
                )
            if mtype == "text":
                text = body.get("text")
                if not isinstance(text, str) or not text:
                    bad.append({"name": "text", "reason": "is required"})
                elif len(text) > 1000:
                    bad.append({"name": "text", "reason": "must be at most 1000 characters"})
            opts = body.get("viber_service") or {}
            if not isinstance(opts, dict):
                bad.append({"name": "viber_service", "reason": "must be an object"})
                opts = {}
            if "category" in opts and opts["category"] not in ("transaction", "promotion"):
                bad.append(
                    {"name": "viber_service.category", "reason": "must be transaction or promotion"}
                )
            if "ttl" in opts and not (isinstance(opts["ttl"], int) and 30 <= opts["ttl"] <= 259200):
                bad.append({"name": "viber_service.ttl", "reason": "must be an integer 30..259200"})
        client_ref = body.get("client_ref")
        if client_ref is not None and (not isinstance(client_ref, str) or len(client_ref) > 100):
            bad.append({"name": "client_ref", "reason": "must be a string of up to 100 characters"})
        return bad

    def _create(self, req: RecordedRequest, outcome: Outcome | None) -> Response:
        body = req.json
        bad = self._validate(body)
        if bad:
            return json_response(
                422,
                problem(
                    _ERROR_TYPE_BASE + "1150",
                    "Invalid params",
                    "The value of one or more parameters is invalid.",
                    bad,
                ),
            )
        message_uuid = str(uuid.uuid4())
        record = dict(body)
        record.update(
            {"message_uuid": message_uuid, "status": "accepted", "statuses": [], "request": req}
        )
        with self._msg_lock:
            self._messages[message_uuid] = record
        resp = json_response(202, {"message_uuid": message_uuid})
        if outcome is not None and outcome.callbacks:
            specs, pause = outcome.callbacks, outcome.callback_delay
            resp.after = lambda: self._auto_callbacks(message_uuid, specs, pause)
        return resp


@contextlib.contextmanager
def running_fake_vonage(
    api_key: str = "abcd1234",
    api_secret: str = "fake-api-secret",
    signature_secret: str = "fake-signature-secret-at-least-32-bytes-long",
    *,
    status_url: str | None = None,
    application_id: str | None = None,
    application_public_key: str | None = None,
) -> Iterator[FakeVonageMessages]:
    """Start a :class:`FakeVonageMessages` on 127.0.0.1 for the ``with`` block.

    The yielded server has ``.base_url`` / ``.messages_url``, ``.requests``,
    ``.messages``, ``.script(*VonageOutcome...)``, ``.callback(uuid, status,
    error_code=None, url=None)``, ``.callbacks``, ``.wait_for_callbacks(n)``,
    ``.signed_webhook(payload)`` and a settable ``.status_url``.
    """
    fake = FakeVonageMessages(
        api_key,
        api_secret,
        signature_secret,
        status_url=status_url,
        application_id=application_id,
        application_public_key=application_public_key,
    )
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
