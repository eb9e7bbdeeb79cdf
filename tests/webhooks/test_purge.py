"""Old webhook events go after their retention, never one that is still being delivered (I2)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from interfaces.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from interfaces.webhooks.tasks import purge_webhook_events, sweep_webhooks
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def consent() -> None:
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )


def test_finished_events_past_their_retention_are_deleted_pending_ones_kept(
    endpoint, receiver, settings
) -> None:
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    start = timezone.now() - dt.timedelta(days=40)
    with time_machine.travel(start, tick=False):
        consent()
        sweep_webhooks()  # delivered
        receiver.status = 500
        consent()
        sweep_webhooks()  # failed once: pending, its next attempt not made yet
    with time_machine.travel(start + dt.timedelta(days=20), tick=False):
        consent()  # recent
    assert purge_webhook_events() == 1
    assert WebhookEvent.objects.count() == 2
    assert not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).exists()
    assert WebhookAttempt.objects.count() == 1  # the pending event's attempt, kept with it
