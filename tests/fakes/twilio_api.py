"""A loopback fake of Twilio's Programmable Messaging REST API (2010-04-01).

It speaks what the official ``twilio`` Python library (9.x) sends:

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded) -> 201 + Message JSON
* ``GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json``          -> 200 + Message JSON

with HTTP Basic auth checked against the configured Account SID / Auth Token,
Twilio's JSON error shape (``code``, ``message``, ``more_info``, ``status``),
a queue of scripted outcomes, request recording, and status callbacks signed
with ``X-Twilio-Signature`` exactly as the twilio library validates them.

Point the *real* client at it with :func:`twilio_client_for` (product code, in
``channels_out.backends.twilio_common``; re-exported here).

Usage::

    with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        client = twilio_client_for(fake.base_url, ACCOUNT_SID, AUTH_TOKEN, timeout=2)
        fake.script(TwilioOutcome.rate_limited())
        ...
        fake.requests[-1].data["Body"]
        fake.callback(sid, "delivered")          # signed POST to the StatusCallback URL

Sources for every shape and code are listed in docs/providers.md.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from channels_out.backends.twilio_common import twilio_client_for

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
    "TWILIO_ERRORS",
    "FakeTwilio",
    "TwilioOutcome",
    "running_fake_twilio",
    "signed_status_callback",
    "status_callback_params",
    "twilio_client_for",
]


API_VERSION = "2010-04-01"

#: Twilio error code -> (usual HTTP status when returned synchronously, message).
#: ``{to}`` / ``{from_}`` are filled from the request.  HTTP status 0 means the
#: code only ever arrives asynchronously (Message.error_code / callback ErrorCode).
TWILIO_ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (
        400,
        "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account.",
    ),
    21608: (400, "The 'To' phone number provided is not yet verified for this account."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21612: (400, "The 'To' phone number is not currently reachable via SMS."),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21635: (400, "'To' number cannot be a landline"),
    30003: (0, "Unreachable destination handset"),
    30004: (0, "Message blocked"),
    30005: (0, "Unknown destination handset"),
    30006: (0, "Landline or unreachable carrier"),
    30007: (0, "Message filtered"),
    30008: (0, "Unknown error"),
    63016: (0, "Outside messaging window. For WhatsApp, use a Message Template instead"),
}

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")


def _now_rfc2822() -> str:
    return format_datetime(datetime.now(UTC).replace(microsecond=0))


def count_segments(body: str) -> int:
    """SMS segments as Twilio bills them (GSM-7: 160/153, else UCS-2: 70/67)."""
    if not body:
        return 1
    if all(c in _GSM7 or c in _GSM7_EXT for c in body):
        units = sum(2 if c in _GSM7_EXT else 1 for c in body)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in body)  # UTF-16 code units
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)


def _error_body(http_status: int, code: int, message: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": http_status,
    }
    if code == 20003:
        body["detail"] = "Your AccountSid or AuthToken was incorrect."
    return body


def _error_message(code: int, **fmt: Any) -> str:
    template = TWILIO_ERRORS.get(code, (0, f"Error {code}"))[1]
    try:
        return template.format(**fmt)
    except (KeyError, IndexError):
        return template


def _norm_callbacks(specs: Sequence[Any]) -> tuple[tuple[str, int | None], ...]:
    out: list[tuple[str, int | None]] = []
    for spec in specs:
        if isinstance(spec, str):
            out.append((spec, None))
        else:
            status, code = spec
            out.append((status, code))
    return tuple(out)


class TwilioOutcome:
    """Builders for scripted outcomes (pass them to ``FakeTwilio.script``).

    Synchronous errors are HTTP error answers; asynchronous failures are a 201
    followed by status callbacks (set ``StatusCallback`` on the request, or call
    ``FakeTwilio.callback`` yourself).
    """

    @staticmethod
    def accept(
        *,
        callbacks: Sequence[str | tuple[str, int | None]] = (),
        callback_delay: float = 0.0,
        delay: float = 0.0,
    ) -> Outcome:
        """201 Created; then POST each ``(status, error_code)`` in ``callbacks``
        (a bare string means no error code) to the request's StatusCallback."""
        return Outcome(
            "accept",
            delay=delay,
            callbacks=_norm_callbacks(callbacks),
            callback_delay=callback_delay,
            label="accept",
        )

    @staticmethod
    def delay(seconds: float, **kwargs: Any) -> Outcome:
        """Create the message, then wait ``seconds`` before answering 201 (the
        request has left the client; provoke its read timeout)."""
        return TwilioOutcome.accept(delay=seconds, **kwargs)

    @staticmethod
    def error(
        http_status: int, code: int, message: str | None = None, *, delay: float = 0.0
    ) -> Outcome:
        """Answer ``http_status`` with Twilio's JSON error body for ``code``."""
        return Outcome(
            "error",
            http_status=http_status,
            body={"code": code, "message": message},
            delay=delay,
            label=f"{http_status}/{code}",
        )

    @staticmethod
    def disconnect(*, delay: float = 0.0) -> Outcome:
        """Read the request, then close the connection without any answer."""
        return Outcome("disconnect", delay=delay, label="disconnect")

    # -- presets ---------------------------------------------------------------
    @staticmethod
    def rate_limited() -> Outcome:
        return TwilioOutcome.error(429, 20429)

    @staticmethod
    def invalid_to() -> Outcome:
        return TwilioOutcome.error(400, 21211)

    @staticmethod
    def unsubscribed() -> Outcome:
        return TwilioOutcome.error(400, 21610)

    @staticmethod
    def region_not_enabled() -> Outcome:
        return TwilioOutcome.error(400, 21408)

    @staticmethod
    def not_mobile() -> Outcome:
        return TwilioOutcome.error(400, 21614)

    @staticmethod
    def server_error() -> Outcome:
        return TwilioOutcome.error(500, 20500)

    @staticmethod
    def service_unavailable() -> Outcome:
        return TwilioOutcome.error(503, 20503)

    @staticmethod
    def delivered(**kwargs: Any) -> Outcome:
        return TwilioOutcome.accept(callbacks=("sent", "delivered"), **kwargs)

    @staticmethod
    def undelivered(code: int = 30003, **kwargs: Any) -> Outcome:
        """Accepted, sent, then ``undelivered`` with a carrier error (30003 etc.)."""
        return TwilioOutcome.accept(callbacks=("sent", ("undelivered", code)), **kwargs)

    @staticmethod
    def whatsapp_outside_window(**kwargs: Any) -> Outcome:
        """A free-form WhatsApp message outside the 24-hour window: Twilio
        accepts it (201, queued) and it then fails with error 63016."""
        return TwilioOutcome.accept(callbacks=(("failed", 63016),), **kwargs)


def status_callback_params(
    message: Mapping[str, Any],
    status: str,
    error_code: int | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The form fields Twilio POSTs to a StatusCallback URL for ``message`` (a
    Message resource dict as returned by the API)."""
    params = {
        "AccountSid": message["account_sid"],
        "ApiVersion": API_VERSION,
        "MessageSid": message["sid"],
        "MessageStatus": status,
        "SmsSid": message["sid"],
        "SmsStatus": status,
        "To": message["to"],
        "From": message.get("from") or "",
    }
    if message.get("messaging_service_sid"):
        params["MessagingServiceSid"] = message["messaging_service_sid"]
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    if status in ("delivered", "undelivered") and not str(message["to"]).startswith("whatsapp:"):
        params["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
    if extra:
        params.update(extra)
    return params


def signed_status_callback(
    url: str, params: Mapping[str, str], auth_token: str
) -> tuple[dict[str, str], str]:
    """Sign ``params`` for ``url`` like Twilio does; return ``(headers, body)``.

    ``url`` must be the full URL the receiving view will see (for Django's test
    client: ``"http://testserver/<path>"``)::

        headers, body = signed_status_callback("http://testserver/hooks/twilio/", p, TOKEN)
        client.post("/hooks/twilio/", data=body,
                    content_type="application/x-www-form-urlencoded", headers=headers)
    """
    signature = RequestValidator(auth_token).compute_signature(url, dict(params))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
    }
    return headers, urlencode(dict(params))


class FakeTwilio(FakeProviderServer):
    """The fake server.  Use :func:`running_fake_twilio` to get a started one."""

    def __init__(self, account_sid: str, auth_token: str, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._messages: dict[str, dict[str, Any]] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._msg_lock = threading.Lock()

    # -- public helpers ------------------------------------------------------
    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        """Message resources created so far, by sid (copies)."""
        with self._msg_lock:
            return {sid: dict(m) for sid, m in self._messages.items()}

    def message(self, sid: str) -> dict[str, Any]:
        with self._msg_lock:
            return dict(self._messages[sid])

    def request_for(self, sid: str) -> RecordedRequest:
        """The create request that produced message ``sid``."""
        with self._msg_lock:
            return self._meta[sid]["request"]

    def signed_status_callback(
        self, url: str, params: Mapping[str, str]
    ) -> tuple[dict[str, str], str]:
        """:func:`signed_status_callback` with this fake's auth token."""
        return signed_status_callback(url, params, self.auth_token)

    def callback(
        self,
        sid: str,
        status: str,
        error_code: int | None = None,
        *,
        url: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> CallbackRecord:
        """Move message ``sid`` to ``status`` (updating what GET returns) and POST
        the signed status callback to ``url`` or the request's StatusCallback."""
        with self._msg_lock:
            target = url or self._meta[sid].get("status_callback")
        if not target:
            raise ValueError(f"message {sid} has no StatusCallback URL; pass url=")
        self._apply_status(sid, status, error_code)
        with self._msg_lock:
            message = dict(self._messages[sid])
        params = status_callback_params(message, status, error_code, extra)
        headers, body = self.signed_status_callback(target, params)
        return self._record_callback(post_webhook(target, body.encode("utf-8"), headers, params))

    # -- internals -------------------------------------------------------------
    def _apply_status(self, sid: str, status: str, error_code: int | None) -> None:
        with self._msg_lock:
            m = self._messages[sid]
            m["status"] = status
            m["date_updated"] = _now_rfc2822()
            if status in ("sent", "delivered", "undelivered", "read") and not m.get("date_sent"):
                m["date_sent"] = m["date_updated"]
            if error_code is not None:
                m["error_code"] = error_code
                m["error_message"] = _error_message(error_code, to=m["to"], from_=m["from"])

    def _auto_callbacks(
        self, sid: str, specs: tuple[tuple[str, int | None], ...], pause: float
    ) -> None:
        for status, code in specs:
            if not self._sleep(pause):
                return
            with self._msg_lock:
                has_url = bool(self._meta[sid].get("status_callback"))
            if has_url:
                self.callback(sid, status, code)
            else:
                self._apply_status(sid, status, code)

    def _error(
        self, http_status: int, code: int, message: str | None = None, **fmt: Any
    ) -> Response:
        msg = message or _error_message(code, **fmt)
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if http_status == 401 else {}
        return json_response(http_status, _error_body(http_status, code, msg), headers=headers)

    def route(self, req: RecordedRequest) -> Response:
        prefix = f"/{API_VERSION}/Accounts/"
        if not req.path.startswith(prefix):
            return self._error(404, 20404, path=req.path)
        if req.auth != (self.account_sid, self.auth_token):
            return self._error(401, 20003)
        rest = req.path[len(prefix) :]
        if req.method == "GET" and rest == f"{self.account_sid}.json":
            # The account resource: what a credentials check reads.
            return json_response(
                200,
                {"sid": self.account_sid, "status": "active", "friendly_name": "Fake account"},
            )
        account, _, tail = rest.partition("/")
        if account != self.account_sid:
            return self._error(404, 20404, path=req.path)

        outcome = self._take_outcome(req.method)
        if outcome is not None and outcome.kind == "disconnect":
            return Response(0, disconnect=True, delay=outcome.delay)
        if outcome is not None and outcome.kind == "error":
            code = outcome.body["code"]
            resp = self._error(
                outcome.http_status,
                code,
                outcome.body.get("message"),
                to=req.data.get("To", ""),
                from_=req.data.get("From", ""),
                path=req.path,
            )
            resp.delay = outcome.delay
            return resp

        if req.method == "POST" and tail == "Messages.json":
            resp = self._create(req, outcome)
        elif req.method == "GET" and (
            m := re.fullmatch(r"Messages/((?:SM|MM)[0-9a-f]{32})\.json", tail)
        ):
            sid = m.group(1)
            with self._msg_lock:
                found = dict(self._messages[sid]) if sid in self._messages else None
            resp = json_response(200, found) if found else self._error(404, 20404, path=req.path)
        else:
            resp = self._error(404, 20404, path=req.path)
        if outcome is not None:
            resp.delay = outcome.delay
        return resp

    def _create(self, req: RecordedRequest, outcome: Outcome | None) -> Response:
        d = req.data
        to, from_ = d.get("To", ""), d.get("From")
        service = d.get("MessagingServiceSid")
        body = d.get("Body")
        media = req.form.get("MediaUrl", [])
        content_sid = d.get("ContentSid")
        if not to:
            return self._error(400, 21604)
        if not from_ and not service:
            return self._error(400, 21603)
        if not body and not media and not content_sid:
            return self._error(400, 21602)
        if body and len(body) > 1600:
            return self._error(400, 21617)
        bare_to = to.split(":", 1)[1] if to.startswith("whatsapp:") else to
        if not _E164.match(bare_to):
            return self._error(400, 21211, to=to)

        sid = ("MM" if media else "SM") + secrets.token_hex(16)
        now = _now_rfc2822()
        if d.get("ScheduleType") == "fixed" and d.get("SendAt"):
            status = "scheduled"
        elif service:
            status = "accepted"
        else:
            status = "queued"
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        segments = (
            0 if service else (1 if to.startswith("whatsapp:") else count_segments(body or ""))
        )
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": str(len(media)),
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {
                "media": uri.replace(".json", "/Media.json"),
                "feedback": uri.replace(".json", "/Feedback.json"),
            },
            "to": to,
            "uri": uri,
        }
        with self._msg_lock:
            self._messages[sid] = message
            self._meta[sid] = {
                "request": req,
                "status_callback": d.get("StatusCallback"),
                "validity_period": d.get("ValidityPeriod"),
                "content_sid": content_sid,
                "content_variables": d.get("ContentVariables"),
            }
        resp = json_response(201, dict(message))
        if outcome is not None and outcome.callbacks:
            specs, pause = outcome.callbacks, outcome.callback_delay
            resp.after = lambda: self._auto_callbacks(sid, specs, pause)
        return resp


@contextlib.contextmanager
def running_fake_twilio(
    account_sid: str = "AC" + "0" * 32, auth_token: str = "fake-auth-token"
) -> Iterator[FakeTwilio]:
    """Start a :class:`FakeTwilio` on 127.0.0.1 (free port) for the ``with`` block.

    The yielded server has ``.base_url``, ``.requests``, ``.messages``,
    ``.script(*TwilioOutcome...)``, ``.callback(sid, status, error_code=None,
    url=None)``, ``.callbacks``, ``.wait_for_callbacks(n)`` and
    ``.signed_status_callback(url, params)``.  As a pytest fixture::

        @pytest.fixture
        def fake_twilio():
            with running_fake_twilio(SID, TOKEN) as fake:
                yield fake
    """
    fake = FakeTwilio(account_sid, auth_token)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
