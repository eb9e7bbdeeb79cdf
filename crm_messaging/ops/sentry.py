"""Error reporting to Sentry, only when ``SENTRY_DSN`` is set (sentry-sdk)."""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from .redaction import redact_query_string, redact_url

# Request headers whose value is an address (a page of the site, with its secrets).
_ADDRESS_HEADERS = frozenset({"referer", "location"})


def sentry_init(*, dsn: str, environment: str) -> None:
    """Report unhandled errors of the web app and the Celery tasks; send no personal data."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Guests' numbers, addresses and codes must not leave the hotel: no personal data,
        # no request bodies (a sign-in form's code), no frames' variables (a view's token,
        # a guest's number), no secret of an address.
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=without_secret_addresses,
        traces_sample_rate=0.0,
    )


def without_secret_addresses(event: Any, hint: Any) -> Any:
    """The event with the secrets of its request's address masked (``redaction``): the URL
    (a sign-in link's token), the query (the Mews webhook's ``token=``), the referrer."""
    request = event.get("request")
    if not isinstance(request, dict):
        return event
    if isinstance(request.get("url"), str):
        request["url"] = redact_url(request["url"])
    if isinstance(request.get("query_string"), str):
        request["query_string"] = redact_query_string(request["query_string"])
    headers = request.get("headers")
    if isinstance(headers, dict):
        for name, value in headers.items():
            if name.lower() in _ADDRESS_HEADERS and isinstance(value, str):
                headers[name] = redact_url(value)
    return event
