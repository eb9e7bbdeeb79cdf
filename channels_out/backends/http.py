"""The one rule for providers spoken to over HTTP: how a failure is classified.

- no answer because the connection never opened (refused, not accepted in time): transient,
  nothing was sent;
- an answer 429: transient, retried after its Retry-After;
- any other 4xx: permanent, the provider refused this message;
- an answer 5xx, or no answer after the request went out (read timeout, a connection broken
  mid-exchange): ambiguous, the message may exist; never resent automatically.

``network_error`` and ``status_error`` apply it; ``HttpBackend`` is the template for a
provider reached with ``requests`` (Vonage), and the Twilio backends, which go through the
twilio library, read its errors with the same two functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .base import Backend, TransportError

if TYPE_CHECKING:
    from ..models import OutboundMessage


def network_error(exc: requests.RequestException, provider: str) -> TransportError:
    """Classify a ``requests`` failure talking to ``provider``.

    Nothing left our side (connection refused or not accepted in time): transient. The
    request may have reached the provider (read timeout, a connection broken mid-exchange,
    anything unforeseen): ambiguous — never resent automatically. A malformed API URL: permanent.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return TransportError(
            f"{provider} did not accept the connection in time: {exc}", code="connect-timeout"
        )
    if isinstance(exc, requests.Timeout):
        return TransportError(
            f"{provider} did not answer in time; the message may have been sent",
            code="timeout",
            ambiguous=True,
        )
    if isinstance(exc, requests.ConnectionError):
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError):
            return TransportError(f"{provider} could not be reached: {exc}", code="connection")
        return TransportError(
            f"the connection to {provider} broke after the request went out: {exc}",
            code="connection",
            ambiguous=True,
        )
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema,
    ):
        return TransportError(
            f"the {provider} API URL is not usable: {exc}", code="config", permanent=True
        )
    return TransportError(
        f"the exchange with {provider} failed: {exc}; the message may have been sent",
        code="request",
        ambiguous=True,
    )


def status_error(
    status: int, text: str, *, code: str = "", retry_after: float | None = None
) -> TransportError:
    """Classify a provider's HTTP answer that did not accept the message (``text`` says what
    it answered): 429 transient with ``retry_after``, another 4xx permanent, anything else
    (5xx, or a 1xx–3xx where an acceptance was due) ambiguous."""
    code = code or str(status)
    if status == 429:
        return TransportError(text, code=code, retry_after=retry_after)
    if 400 <= status < 500:
        return TransportError(text, code=code, permanent=True)
    return TransportError(f"{text}; the message may have been sent", code=code, ambiguous=True)


def retry_after_seconds(value: str | None) -> float | None:
    """Read a Retry-After header (seconds or an HTTP date) as seconds from now; None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request to a provider's API."""

    method: str
    url: str
    json: Any = None
    auth: tuple[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class HttpBackend(Backend):
    """A provider's HTTP API reached with ``requests``: ``build_request`` returns an
    ``ApiRequest``; an answer outside ``accepted_statuses`` is classified by ``status_error``,
    worded by ``refusal`` (the provider's own error format)."""

    provider: ClassVar[str]
    accepted_statuses: ClassVar[frozenset[int]] = frozenset({200, 201, 202})

    def transmit(self, request: ApiRequest, message: OutboundMessage) -> requests.Response:
        try:
            return requests.request(
                request.method,
                request.url,
                json=request.json,
                auth=request.auth,
                headers=request.headers,
                timeout=self.account.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise network_error(exc, self.provider) from exc

    def check_answer(self, answer: requests.Response) -> None:
        if answer.status_code in self.accepted_statuses:
            return
        text, code = self.refusal(answer)
        raise status_error(
            answer.status_code,
            text,
            code=code,
            retry_after=retry_after_seconds(answer.headers.get("Retry-After")),
        )

    def refusal(self, answer: requests.Response) -> tuple[str, str]:
        """Return (what the provider said, its error code) for a refusing answer."""
        return f"{self.provider} answered {answer.status_code} {answer.reason or ''}".strip(), ""
