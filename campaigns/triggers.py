"""Triggers (C2, R1, R2): what starts a campaign, recorded durably, processed once.

Signal receivers only write a ``TriggerEvent`` (in the transaction of the change that caused
it) and schedule its processing after commit — a rolled-back check-in leaves no event and
sends nothing; a committed one is processed even if its task is lost, because the periodic
``campaigns.tick`` processes events left pending. The event's unique key makes a repeated
signal, a double tick, two beats or a re-run night audit harmless, and the messages' own
dedupe keys make a re-processed event send nothing twice.

Processing an event (``trigger_event_process``) starts the runs it calls for, once (C7): a
reservation's event is sent at once, in the event's transaction; daily, hourly and one-off
ticks fan out in chunks; a one-off campaign is checked against the balance before it goes.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from crm_messaging.handoff import hand_off_on_commit
from guests import signals
from guests.models import FacilityBooking, Hotel, NightAudit, Reservation

from .audiences import audience
from .models import (
    EVENT_TRIGGERS,
    FACILITY_EVENTS,
    Campaign,
    CampaignRun,
    CampaignSettings,
    Trigger,
    TriggerEvent,
)
from .occurrences import Occurrence
from .services.operator import estimate
from .services.runs import run_finish, run_launch, run_open, run_send_chunk

logger = logging.getLogger(__name__)
PENDING_AFTER = dt.timedelta(minutes=2)


def _schedule(event: TriggerEvent) -> None:
    # A broker that cannot take it is logged; the tick processes pending events (PENDING_AFTER).
    hand_off_on_commit("campaigns.process_trigger_event", event.pk)


def record_trigger(
    *,
    kind: str,
    key: str,
    reservation: Reservation | None = None,
    facility_booking: FacilityBooking | None = None,
    changed_fields: list[str] | None = None,
    business_date: dt.date | None = None,
    campaign: Campaign | None = None,
) -> TriggerEvent | None:
    """Write the trigger event once (by ``key``) and schedule it; None if it was already recorded."""
    try:
        with transaction.atomic():
            event = TriggerEvent.objects.create(
                kind=kind,
                key=key,
                reservation=reservation,
                facility_booking=facility_booking,
                changed_fields=changed_fields or [],
                business_date=business_date,
                campaign=campaign,
            )
    except IntegrityError:
        return None
    _schedule(event)
    return event


def _has_campaigns(trigger: str) -> bool:
    return Campaign.objects.filter(is_active=True, trigger=trigger).exists()


def _on_reservation(trigger: str, reservation: Reservation) -> None:
    if _has_campaigns(trigger):
        record_trigger(
            kind=trigger, key=f"{trigger}:reservation:{reservation.pk}", reservation=reservation
        )


@receiver(signals.reservation_created, dispatch_uid="campaigns.reservation_created")
def on_reservation_created(reservation: Reservation, **kwargs: Any) -> None:
    _on_reservation(Trigger.RESERVATION_CREATED, reservation)


@receiver(signals.reservation_checked_in, dispatch_uid="campaigns.reservation_checked_in")
def on_reservation_checked_in(reservation: Reservation, **kwargs: Any) -> None:
    _on_reservation(Trigger.CHECK_IN, reservation)


@receiver(signals.reservation_checked_out, dispatch_uid="campaigns.reservation_checked_out")
def on_reservation_checked_out(reservation: Reservation, **kwargs: Any) -> None:
    _on_reservation(Trigger.CHECK_OUT, reservation)


@receiver(signals.reservation_cancelled, dispatch_uid="campaigns.reservation_cancelled")
def on_reservation_cancelled(reservation: Reservation, **kwargs: Any) -> None:
    _on_reservation(Trigger.CANCELLATION, reservation)


@receiver(signals.reservation_no_show, dispatch_uid="campaigns.reservation_no_show")
def on_reservation_no_show(reservation: Reservation, **kwargs: Any) -> None:
    _on_reservation(Trigger.NO_SHOW, reservation)


@receiver(signals.reservation_modified, dispatch_uid="campaigns.reservation_modified")
def on_reservation_modified(
    reservation: Reservation, changes: dict[str, Any], **kwargs: Any
) -> None:
    fields = sorted(changes)
    listening = Campaign.objects.filter(is_active=True, trigger=Trigger.RESERVATION_MODIFIED)
    if not any(campaign.hears_changes(set(fields)) for campaign in listening):
        return
    # Each modification is its own event, named by its row in the stay's history.
    change = reservation.status_changes.filter(action="modify").order_by("-pk").first()
    moment = change.pk if change is not None else int(reservation.updated_at.timestamp() * 1e6)
    record_trigger(
        kind=Trigger.RESERVATION_MODIFIED,
        key=f"{Trigger.RESERVATION_MODIFIED}:reservation:{reservation.pk}:{moment}",
        reservation=reservation,
        changed_fields=fields,
    )


def _on_facility_booking(trigger: str, booking: FacilityBooking) -> None:
    if _has_campaigns(trigger):
        record_trigger(
            kind=trigger,
            key=f"{trigger}:facility_booking:{booking.pk}",
            facility_booking=booking,
            reservation=booking.reservation,
        )


@receiver(signals.facility_booking_created, dispatch_uid="campaigns.facility_booking_created")
def on_facility_booking_created(facility_booking: FacilityBooking, **kwargs: Any) -> None:
    _on_facility_booking(Trigger.FACILITY_BOOKED, facility_booking)


@receiver(signals.facility_booking_changed, dispatch_uid="campaigns.facility_booking_changed")
def on_facility_booking_changed(facility_booking: FacilityBooking, **kwargs: Any) -> None:
    if facility_booking.status == FacilityBooking.Status.CANCELLED:
        _on_facility_booking(Trigger.FACILITY_CANCELLED, facility_booking)


@receiver(signals.night_audit_completed, dispatch_uid="campaigns.night_audit_completed")
def on_night_audit_completed(audit: NightAudit, business_date: dt.date, **kwargs: Any) -> None:
    record_trigger(
        kind=Trigger.DAILY, key=f"daily:{business_date.isoformat()}", business_date=business_date
    )


def tick(*, now: dt.datetime | None = None) -> list[TriggerEvent]:
    """The periodic heartbeat (every minute): hourly events on the hour, the daily fallback,
    daily campaigns whose own send time came, one-off campaigns that came due. Returns the
    events it recorded.

    The daily campaigns run after the night audit; a hotel that does not run one gets them
    at the configured time instead (``CampaignSettings.daily_fallback_time``) — the event key
    is the date either way, so a day never runs twice.
    """
    now = now or timezone.now()
    local = timezone.localtime(now)
    made: list[TriggerEvent] = []
    hour = local.replace(minute=0, second=0, microsecond=0)
    event = record_trigger(kind=Trigger.HOURLY, key=f"hourly:{hour.isoformat()}")
    if event:
        made.append(event)
    settings_row = CampaignSettings.load()
    today = local.date()
    if local.time() >= settings_row.daily_fallback_time and Hotel.load().business_date < today:
        # No night audit has opened today: run today's daily campaigns on the calendar date.
        event = record_trigger(
            kind=Trigger.DAILY, key=f"daily:{today.isoformat()}", business_date=today
        )
        if event:
            made.append(event)
    made += _daily_at_send_time(now)
    for campaign in Campaign.objects.filter(
        is_active=True, trigger=Trigger.ONCE, scheduled_at__lte=now
    ):
        assert campaign.scheduled_at is not None
        event = record_trigger(
            kind=Trigger.ONCE,
            key=f"once:{campaign.pk}:{campaign.scheduled_at.isoformat()}",
            campaign=campaign,
        )
        if event:
            made.append(event)
    return made


def daily_due_at(campaign: Campaign, business_date: dt.date) -> dt.datetime:
    """When a daily campaign with a send time goes for ``business_date``: that time, hotel time."""
    assert campaign.send_time is not None
    return timezone.make_aware(dt.datetime.combine(business_date, campaign.send_time))


def daily_event_key(campaign: Campaign, business_date: dt.date) -> str:
    """The key of a daily campaign's own event for a business date (one with a send time)."""
    return f"daily:{business_date.isoformat()}:campaign:{campaign.pk}"


def _daily_at_send_time(now: dt.datetime) -> list[TriggerEvent]:
    """Daily campaigns with their own send time, due now: one event each for the business date.

    Only for a day that has opened — the business date after its night audit, or today's
    calendar date once the fallback opened it — so a campaign reads the day its daily run
    would; a tick that comes late still records it, and the key makes it once a day.
    """
    days = sorted({Hotel.load().business_date, timezone.localdate(now)})
    opened = [d for d in days if TriggerEvent.objects.filter(key=f"daily:{d.isoformat()}").exists()]
    if not opened:
        return []
    made = []
    for campaign in Campaign.objects.filter(
        is_active=True, trigger=Trigger.DAILY, send_time__isnull=False
    ):
        for day in opened:
            if daily_due_at(campaign, day) > now:
                continue
            event = record_trigger(
                kind=Trigger.DAILY,
                key=daily_event_key(campaign, day),
                business_date=day,
                campaign=campaign,
            )
            if event:
                made.append(event)
    return made


def pending_events(*, now: dt.datetime | None = None) -> list[int]:
    """Ids of events whose processing task seems lost (recorded a while ago, still pending)."""
    now = now or timezone.now()
    return list(
        TriggerEvent.objects.filter(processed_at__isnull=True, occurred_at__lte=now - PENDING_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


# --- processing an event -----------------------------------------------------------------------
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
