"""Trigger events (C7, R2): the runs an event calls for, started once.

A reservation's event is sent at once, in the event's transaction; daily, hourly and one-off
ticks fan out in chunks; a one-off campaign is checked against the balance before it goes.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from guests.models import Hotel

from ..audiences import audience
from ..models import (
    EVENT_TRIGGERS,
    FACILITY_EVENTS,
    Campaign,
    CampaignRun,
    Trigger,
    TriggerEvent,
)
from ..occurrences import Occurrence
from .operator import estimate
from .runs import run_finish, run_launch, run_open, run_send_chunk


def _campaigns_for(event: TriggerEvent) -> list[Campaign]:
    if event.campaign is not None:
        # A one-off campaign, or a daily one at its own send time.
        own = event.campaign
        return [own] if own.is_active and own.trigger == event.kind else []
    listening = Campaign.objects.filter(is_active=True, trigger=event.kind)
    if event.kind == Trigger.DAILY:
        # A daily campaign with a send time goes at that time, by an event of its own.
        listening = listening.filter(send_time__isnull=True)
    campaigns = list(listening)
    if event.kind == Trigger.RESERVATION_MODIFIED:
        # Each campaign says which changes count (dates, room, number of guests).
        changed = set(event.changed_fields)
        campaigns = [campaign for campaign in campaigns if campaign.hears_changes(changed)]
    return campaigns


def _occurrence_for(event: TriggerEvent) -> Occurrence:
    if event.kind == Trigger.DAILY:
        assert event.business_date is not None
        return Occurrence.daily(event.business_date)
    if event.kind == Trigger.HOURLY:
        return Occurrence.hourly(dt.datetime.fromisoformat(event.key.partition(":")[2]))
    if event.kind == Trigger.ONCE:
        assert event.campaign is not None and event.campaign.scheduled_at is not None
        return Occurrence.once(event.campaign.scheduled_at)
    business_date = Hotel.load().business_date
    if event.kind in FACILITY_EVENTS:
        assert event.facility_booking_id is not None
        return Occurrence.event(event.kind, event.facility_booking_id, business_date=business_date)
    assert event.reservation_id is not None
    # A modification can happen again: each is its own moment, named by the event's key.
    change = event.key.rpartition(":")[2] if event.kind == Trigger.RESERVATION_MODIFIED else ""
    return Occurrence.event(
        event.kind, event.reservation_id, business_date=business_date, change=change
    )


def trigger_event_process(event_id: int) -> list[CampaignRun]:
    """Start the runs an event calls for (once), and mark it processed.

    Event triggers (one reservation) are sent at once, in this transaction; ticks fan out in
    chunks. One-off campaigns are checked against the balance before they go (C11, C13).
    """
    runs: list[CampaignRun] = []
    with transaction.atomic():
        event = (
            TriggerEvent.objects.select_for_update()
            .filter(pk=event_id, processed_at__isnull=True)
            .first()
        )
        if event is None:
            return runs
        occurrence = _occurrence_for(event)
        today = occurrence.day
        for campaign in _campaigns_for(event):
            if not campaign.is_valid_on(today):
                continue
            run, created = run_open(campaign, occurrence, trigger=event.kind)
            if not created:
                continue
            if event.kind == Trigger.ONCE:
                cost = estimate(campaign, occurrence, run=run)
                CampaignRun.objects.filter(pk=run.pk).update(
                    estimated_cost=cost.credits, estimated_recipients=cost.recipients
                )
                if cost.refusal_phrase:
                    CampaignRun.objects.filter(pk=run.pk).update(
                        state=CampaignRun.State.REFUSED,
                        **CampaignRun.refusal_fields(cost.refusal_phrase),
                        finished_at=timezone.now(),
                    )
                    runs.append(run)
                    continue
            if event.kind in EVENT_TRIGGERS:
                ids = list(audience(campaign, occurrence).values_list("pk", flat=True))
                CampaignRun.objects.filter(pk=run.pk).update(
                    audience_size=len(ids), chunks_total=1 if ids else 0
                )
                if ids:
                    run_send_chunk(run.pk, ids)
                run_finish(run.pk)
            else:
                run_launch(run)
            runs.append(run)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    return runs
