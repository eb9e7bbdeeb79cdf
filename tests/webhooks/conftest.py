"""A real HTTP receiver on loopback for the webhook deliveries, and the endpoint it listens at."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from interfaces.webhooks.models import EventType, WebhookEndpoint
from interfaces.webhooks.services import endpoint_create
from tests.api.conftest import fresh_throttle_counts, make_client  # noqa: F401 (API fixtures)
from tests.campaigns.conftest import make_campaign  # noqa: F401 (a fixture for the run events)
from tests.fakes._server import RecordedRequest, WebhookSink


class Receiver(WebhookSink):
    """The PMS's webhook receiver: answers ``status`` (changeable between deliveries)."""

    def url(self, path: str = "/pms/events") -> str:
        return self.base_url + path


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """The receiver listens on loopback, which webhooks may reach only when the setting for a
    PMS on the hotel's own network names it: the tests turn that on explicitly here."""
    settings.WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    sink = Receiver(200)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def endpoint(db: None, receiver: Receiver) -> tuple[WebhookEndpoint, str]:
    """An endpoint for every event type at the receiver, and its secret."""
    return endpoint_create(url=receiver.url(), events=list(EventType.values), description="PMS")


def hand_verified(request: RecordedRequest, secret: str) -> bool:
    """Check the signature the way the Standard Webhooks spec describes, by hand."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.header('webhook-id')}.{request.header('webhook-timestamp')}.".encode()
    expected = base64.b64encode(hmac.new(key, signed + request.body, hashlib.sha256).digest())
    given = [part.split(",", 1)[1] for part in (request.header("webhook-signature") or "").split()]
    return any(hmac.compare_digest(expected.decode(), value) for value in given)


def library_verified(request: RecordedRequest, secret: str) -> Any:
    """Verify with the standardwebhooks library (what a receiver would use); return the body."""
    return Webhook(secret).verify(request.body, dict(request.headers))
