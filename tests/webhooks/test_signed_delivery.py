"""A message's status reaches the PMS signed the Standard Webhooks way, without any secret of the guest's (I2)."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import WebhookVerificationError

from channels_out import dispatch
from channels_out.models import OutboundMessage, Status
from channels_out.services import Step, message_apply_status, message_send
from interfaces.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from interfaces.webhooks.services import endpoint_create
from interfaces.webhooks.signing import secret_generate
from interfaces.webhooks.tasks import sweep_webhooks
from tests.factories import GuestFactory

from .conftest import hand_verified, library_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(receiver) -> tuple[WebhookEndpoint, str]:
    """The PMS listens to message statuses only (not to the low balance the small top-up makes)."""
    return endpoint_create(url=receiver.url(), events=["message.status_changed"])


@pytest.fixture
def sent(accounts, top_up, endpoint) -> OutboundMessage:
    top_up(5)
    message = message_send(
        steps=Step(channel="sms", text="Your code is 493817"),
        guest=GuestFactory(),
        secrets=["493817"],
    )
    dispatch.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def test_the_status_change_arrives_signed_with_the_endpoint_secret(
    sent, endpoint, receiver, django_capture_on_commit_callbacks
) -> None:
    _, secret = endpoint
    with django_capture_on_commit_callbacks(execute=True):
        message_apply_status(sent, Status.DELIVERED, source="webhook")
    sweep_webhooks()  # the "sent" event, written in the fixture's dispatch
    requests = receiver.wait_for_requests(2)
    bodies = [library_verified(request, secret) for request in requests]
    assert all(hand_verified(request, secret) for request in requests)
    by_status = {body["data"]["message"]["status"]: body for body in bodies}
    delivered = by_status[Status.DELIVERED]
    assert delivered["type"] == "message.status_changed"
    assert delivered["data"]["message"]["id"] == sent.pk
    assert delivered["data"]["message"]["previous_status"] == Status.SENT
    assert set(by_status) == {Status.SENT, Status.DELIVERED}
    for request, body in zip(requests, bodies, strict=True):
        assert request.header("webhook-id") == body["id"]
        assert body["id"] == WebhookEvent.objects.get(event_id=body["id"]).event_id
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count() == 2


def test_another_secret_does_not_verify(sent, endpoint, receiver) -> None:
    sweep_webhooks()
    (request,) = receiver.wait_for_requests(1)
    with pytest.raises(WebhookVerificationError):
        library_verified(request, secret_generate())
    assert not hand_verified(request, secret_generate())


def test_a_tampered_body_does_not_verify(sent, endpoint, receiver) -> None:
    _, secret = endpoint
    sweep_webhooks()
    (request,) = receiver.wait_for_requests(1)
    request.body = request.body.replace(b'"sent"', b'"delivered"')
    with pytest.raises(WebhookVerificationError):
        library_verified(request, secret)


def test_the_payload_carries_the_masked_text_never_the_code(sent, endpoint, receiver) -> None:
    _, secret = endpoint
    sweep_webhooks()
    (request,) = receiver.wait_for_requests(1)
    assert b"493817" not in request.body
    body = json.loads(request.body)
    assert "••••••" in body["data"]["message"]["body"]
    # Nor does the log keep the secret or the signature.
    attempt = WebhookAttempt.objects.get()
    logged = " ".join(str(value) for value in attempt.__dict__.values())
    assert secret not in logged and request.header("webhook-signature") not in logged


def test_each_attempt_is_logged_with_code_latency_and_excerpt(sent, endpoint, receiver) -> None:
    receiver.status = 503
    sweep_webhooks()
    receiver.wait_for_requests(1)
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.succeeded, attempt.manual) == (503, False, False)
    assert attempt.latency_ms >= 0
    delivery = attempt.delivery
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)


def test_no_event_is_written_without_a_subscribed_endpoint(accounts, top_up) -> None:
    top_up(5)
    message = message_send(steps=Step(channel="sms", text="Hello"), guest=GuestFactory())
    dispatch.deliver([message.pk])
    assert not WebhookEvent.objects.exists()
