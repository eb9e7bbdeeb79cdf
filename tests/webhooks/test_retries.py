"""Failed deliveries are retried with exponential backoff for 24 hours; an endpoint failing
that long is disabled and the managers are warned (I2). Time is moved, never waited for."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from interfaces.staff.roles import sync_roles
from interfaces.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from interfaces.webhooks.services import retry_delay
from interfaces.webhooks.tasks import sweep_webhooks
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def consent_event() -> None:
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )


def delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.select_related("endpoint").get()


def test_the_backoff_doubles_from_30_seconds_up_to_6_hours() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(20) == dt.timedelta(hours=6)


def test_a_failed_delivery_waits_for_its_backoff_then_succeeds(endpoint, receiver) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        consent_event()
        receiver.status = 500
        sweep_webhooks()
        assert len(receiver.requests) == 1
        assert delivery().next_attempt_at == start + dt.timedelta(seconds=30)

        clock.shift(dt.timedelta(seconds=29))
        sweep_webhooks()
        assert len(receiver.requests) == 1  # not due yet

        clock.shift(dt.timedelta(seconds=1))
        sweep_webhooks()
        assert len(receiver.requests) == 2
        assert delivery().next_attempt_at == timezone.now() + dt.timedelta(seconds=60)

        receiver.status = 204
        clock.shift(dt.timedelta(seconds=60))
        sweep_webhooks()
        sweep_webhooks()  # delivered: nothing more goes
    requests = receiver.requests
    assert len(requests) == 3
    assert len({r.header("webhook-id") for r in requests}) == 1  # one event, one id
    assert len({r.header("webhook-timestamp") for r in requests}) == 3  # each attempt its own
    done = delivery()
    assert (done.status, done.attempts) == (WebhookDelivery.Status.DELIVERED, 3)
    assert list(WebhookAttempt.objects.order_by("pk").values_list("status_code", flat=True)) == [
        500,
        500,
        204,
    ]
    assert done.endpoint.failing_since is None  # a success ends the failing


def fail_until(until: dt.datetime, clock: time_machine.Coordinates) -> None:
    """Keep moving to the next due attempt (the receiver failing) until ``until``."""
    while True:
        pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        due = min((d.next_attempt_at for d in pending), default=None)
        if due is None or due > until:
            return
        clock.move_to(due)
        sweep_webhooks()


def test_an_endpoint_failing_for_24_hours_is_disabled_and_the_managers_warned(
    endpoint, receiver, client, django_user_model, django_capture_on_commit_callbacks
) -> None:
    sync_roles()
    manager = django_user_model.objects.create_user("boss", email="boss@hotel.example")
    manager.groups.add(Group.objects.get(name="Manager"))
    desk = django_user_model.objects.create_user("desk", email="desk@hotel.example")
    desk.groups.add(Group.objects.get(name="Front desk"))
    receiver.status = 500
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        consent_event()
        with django_capture_on_commit_callbacks(execute=True):
            fail_until(start + dt.timedelta(hours=23), clock)
        assert WebhookEndpoint.objects.get().is_active  # 23 hours: still trying
        attempts_by_23h = len(receiver.requests)
        with django_capture_on_commit_callbacks(execute=True):
            fail_until(start + dt.timedelta(hours=25), clock)
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.is_active and "24 hours" in endpoint.disabled_reason
    assert delivery().status == WebhookDelivery.Status.FAILED
    # The gaps grew: 30 s, 1 min, 2 min … capped at 6 h, a dozen or so attempts, not thousands.
    assert 10 <= len(receiver.requests) <= 16 and len(receiver.requests) > attempts_by_23h
    (warning,) = mail.outbox
    assert warning.to == ["boss@hotel.example"] and endpoint.url in warning.body
    # Every manager's page says so; the front desk's does not.
    client.force_login(manager)
    page = client.get(reverse("staff:home")).content.decode()
    assert "was disabled" in page and endpoint.url in page
    client.force_login(desk)
    assert "was disabled" not in client.get(reverse("staff:home")).content.decode()
    # Nothing more goes to a disabled endpoint, however much time passes.
    sent = len(receiver.requests)
    with time_machine.travel(start + dt.timedelta(days=3), tick=False):
        consent_event()
        sweep_webhooks()
    assert len(receiver.requests) == sent


def test_one_success_restarts_the_failure_clock(endpoint, receiver) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        receiver.status = 500
        consent_event()
        sweep_webhooks()
        clock.shift(dt.timedelta(hours=20))
        receiver.status = 200
        consent_event()
        sweep_webhooks()  # the second event goes through; the first is also due and goes
        receiver.status = 500
        clock.shift(dt.timedelta(hours=10))
        consent_event()
        sweep_webhooks()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.is_active
    assert endpoint.failing_since is not None and endpoint.failing_since > start
