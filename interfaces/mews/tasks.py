"""Celery tasks of the Mews connector: thin, by id (I4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task
from django.utils import timezone

from crm_messaging.handoff import hand_off

from .client import MewsError
from .models import MewsConnection, MewsWebhook
from .services import mews_pull, mews_webhook_process

RETRY_DELAYS = (30, 120, 600, 1800)  # then the periodic pull brings the change anyway


@shared_task(name="mews.process_webhook", ignore_result=True)
def process_webhook(webhook_id: int, attempt: int = 0) -> None:
    """Fetch and apply what one webhook message names; retry a Mews outage with backoff."""
    webhook = MewsWebhook.objects.select_related("connection").filter(pk=webhook_id).first()
    if webhook is None or webhook.processed_at is not None:
        return
    try:
        mews_webhook_process(webhook=webhook)
    except MewsError as exc:
        if not exc.permanent and attempt < len(RETRY_DELAYS):
            hand_off(process_webhook, webhook_id, attempt + 1, countdown=RETRY_DELAYS[attempt])


@shared_task(name="mews.pull", ignore_result=True)
def pull() -> dict[str, Any]:
    """Periodic (the safety net): every active connection pulls what changed since its cursor;
    webhooks whose task was lost (the broker was down) are processed too."""
    done: dict[str, Any] = {}
    stale = timezone.now() - dt.timedelta(minutes=10)
    for webhook_id in MewsWebhook.objects.filter(
        processed_at__isnull=True, received_at__lt=stale, connection__is_active=True
    ).values_list("pk", flat=True)[:100]:
        process_webhook(webhook_id, len(RETRY_DELAYS))  # inline, no further retry
    for connection in MewsConnection.objects.filter(is_active=True):
        try:
            done[connection.name] = mews_pull(connection=connection).counts
        except MewsError as exc:
            done[connection.name] = str(exc)
    return done
