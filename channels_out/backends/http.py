"""What HTTP-based provider backends share: reading network failures and Retry-After."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .base import TransportError


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
