"""The causes of events, heard inside their own transactions (the outbox, I2).

Each receiver turns what a lower layer tells into events for the subscribed endpoints
(``events_record``), written in the same transaction as the cause: if the cause rolls back,
so does its event; once it commits, the event is there even when the broker is down.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from campaigns.signals import campaign_run_finished
from channels_out.models import OutboundMessage, Status
from channels_out.signals import credits_low, inbound_received, message_status_changed
from guests.signals import consent_recorded

from . import payloads
from .models import EventType, WebhookEndpoint
from .services import events_record

# The statuses a PMS hears about (queued and sending are internal steps).
REPORTED_STATUSES = frozenset(
    {Status.SENT, Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.UNKNOWN}
)


def subscribed(event_type: str) -> bool:
    """Whether an active endpoint wants ``event_type``: when none does, a cause builds no
    payload at all (every status change of every message passes here)."""
    return any(
        event_type in events
        for events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "events", flat=True
        )
    )


def on_message_status_changed(
    sender: Any, *, changes: list[tuple[OutboundMessage, str]], **kwargs: Any
) -> None:
    if not subscribed(EventType.MESSAGE_STATUS_CHANGED):
        return
    events_record(
        EventType.MESSAGE_STATUS_CHANGED,
        [
            (
                f"message:{message.pk}:{message.status}",
                payloads.message_data(message, previous_status=previous),
            )
            for message, previous in changes
            if message.status in REPORTED_STATUSES
        ],
    )


def on_inbound_received(sender: Any, *, message: Any, **kwargs: Any) -> None:
    if not subscribed(EventType.MESSAGE_INBOUND):
        return
    events_record(
        EventType.MESSAGE_INBOUND, [(f"inbound:{message.pk}", payloads.inbound_data(message))]
    )


def on_consent_recorded(sender: Any, *, record: Any, **kwargs: Any) -> None:
    if not subscribed(EventType.CONSENT_CHANGED):
        return
    events_record(
        EventType.CONSENT_CHANGED, [(f"consent:{record.pk}", payloads.consent_data(record))]
    )


def on_campaign_run_finished(sender: Any, *, run: Any, **kwargs: Any) -> None:
    if not subscribed(EventType.CAMPAIGN_RUN_FINISHED):
        return
    events_record(
        EventType.CAMPAIGN_RUN_FINISHED,
        [(f"campaign_run:{run.pk}", payloads.campaign_run_data(run))],
    )


def on_credits_low(
    sender: Any, *, available: Decimal, threshold: Decimal, at: dt.datetime, **kwargs: Any
) -> None:
    # Once per crossing: the ledger sends it when the balance goes under the threshold.
    if not subscribed(EventType.CREDITS_LOW):
        return
    events_record(
        EventType.CREDITS_LOW,
        [
            (
                f"credits_low:{at.isoformat()}",
                payloads.credits_low_data(available=available, threshold=threshold, at=at),
            )
        ],
    )


def connect() -> None:
    message_status_changed.connect(on_message_status_changed, dispatch_uid="webhooks.status")
    inbound_received.connect(on_inbound_received, dispatch_uid="webhooks.inbound")
    consent_recorded.connect(on_consent_recorded, dispatch_uid="webhooks.consent")
    campaign_run_finished.connect(on_campaign_run_finished, dispatch_uid="webhooks.run")
    credits_low.connect(on_credits_low, dispatch_uid="webhooks.credits_low")
