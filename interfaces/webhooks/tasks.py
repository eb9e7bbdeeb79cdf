"""Celery tasks of the webhooks: thin, they load by id and call a service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from crm_messaging.handoff import hand_off

from .services import deliveries_due, delivery_attempt, webhook_events_purge


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """Make the due attempt of one delivery (nothing if it is not due or another worker has it)."""
    delivery_attempt(delivery_id)


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep_webhooks() -> int:
    """Hand over every due delivery: retries whose time came and what the broker once missed."""
    due = deliveries_due()
    for pk in due:
        hand_off(deliver_webhook, pk)
    return len(due)


@shared_task(name="webhooks.purge_events", ignore_result=True)
def purge_webhook_events() -> int:
    """Daily: delete finished events older than WEBHOOK_EVENT_RETENTION_DAYS."""
    return webhook_events_purge(older_than=dt.timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS))
