"""Signatures as the Standard Webhooks specification has them (standardwebhooks.com).

The secret is ``whsec_`` followed by the base64 of 32 random bytes (the HMAC key). Each
request carries ``webhook-id`` (the event's stable id), ``webhook-timestamp`` (Unix seconds of
this attempt) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of
``{webhook-id}.{webhook-timestamp}.{body}`` — computed by the ``standardwebhooks`` library, so
the receivers' own libraries verify it.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    """A new endpoint secret (``whsec_…``)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(*, secret: str, event_id: str, at: dt.datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one request of ``body`` sent at ``at``."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }
