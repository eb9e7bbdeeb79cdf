"""A send time per daily campaign (seed 001: "2 days before arrival at 10:00"): the day's
messages go at that hotel time, once; catch-up, dedupe keys and the guest's quiet hours keep
working."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from campaigns import triggers
from campaigns.models import CampaignRun, Timing, Trigger, TriggerEvent
from campaigns.selectors import next_occurrence
from campaigns.triggers import trigger_event_process
from campaigns.validation import definition_errors
from channels_out.backends import locmem
from channels_out.models import Hold, MessagingPolicy, OutboundMessage, Status
from guests.models import Hotel
from guests.services import night_audit_run
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db
ISTANBUL = ZoneInfo("Europe/Istanbul")


@pytest.fixture
def reminder(make_campaign, top_up):
    top_up(100)
    return make_campaign(
        trigger=Trigger.DAILY,
        timing=Timing.DAYS_BEFORE_ARRIVAL,
        offset=2,
        send_time=dt.time(10, 0),
        texts={"en": "See you in two days, @NAME"},
    )


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _open_the_day(capture) -> dt.date:
    with capture(execute=True):
        night_audit_run()
    return Hotel.load().business_date


def test_the_days_messages_wait_for_the_campaigns_send_time(
    reminder, make_campaign, hotel, django_capture_on_commit_callbacks
) -> None:
    make_campaign(
        trigger=Trigger.DAILY,
        timing=Timing.DAYS_BEFORE_ARRIVAL,
        offset=2,
        texts={"en": "At the audit, @NAME"},
    )
    ReservationFactory(
        booker=GuestFactory(first_name="Emma"), arrival=hotel.business_date + dt.timedelta(days=3)
    )
    day = _open_the_day(django_capture_on_commit_callbacks)
    # The campaign without a send time went with the night audit; the other waits.
    assert [m.body for m in locmem.outbox] == ["At the audit, Emma"]
    with django_capture_on_commit_callbacks(execute=True):
        triggers.tick(now=_at(day, 9, 59))
    assert len(locmem.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        made = triggers.tick(now=_at(day, 10, 0))
    assert [event.campaign for event in made if event.kind == Trigger.DAILY] == [reminder]
    assert [m.body for m in locmem.outbox][1:] == ["See you in two days, Emma"]
    run = CampaignRun.objects.get(campaign=reminder)
    assert run.occurrence == f"daily:{day}"


def test_later_ticks_and_a_repeated_event_send_nothing_twice(
    reminder, hotel, django_capture_on_commit_callbacks
) -> None:
    ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=3))
    day = _open_the_day(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        for minute in (0, 1, 30):
            triggers.tick(now=_at(day, 10, minute))
        own = TriggerEvent.objects.get(campaign=reminder)
        TriggerEvent.objects.filter(pk=own.pk).update(processed_at=None)
        trigger_event_process(own.pk)
        daily = TriggerEvent.objects.get(key=f"daily:{day}")
        TriggerEvent.objects.filter(pk=daily.pk).update(processed_at=None)
        trigger_event_process(daily.pk)  # the day's event again: it leaves the campaign alone
    assert OutboundMessage.objects.count() == 1


def test_a_late_booking_is_caught_up_at_the_send_time(
    reminder, hotel, django_capture_on_commit_callbacks
) -> None:
    reminder.catch_up = True
    reminder.save()
    late = ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=2))  # moment passed
    day = _open_the_day(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        triggers.tick(now=_at(day, 10, 0))
    assert OutboundMessage.objects.get().reservation == late
    with django_capture_on_commit_callbacks(execute=True):
        night_audit_run()
        triggers.tick(now=_at(day + dt.timedelta(days=1), 10, 0))
    assert OutboundMessage.objects.count() == 1  # the next day: its arrival key is taken


def test_without_a_night_audit_it_waits_for_the_day_to_open_at_the_fallback_time(
    reminder, hotel, django_capture_on_commit_callbacks
) -> None:
    # No night audit today: the day opens at the daily fallback time (09:00).
    today = timezone.localdate()
    Hotel.objects.filter(pk=hotel.pk).update(business_date=today - dt.timedelta(days=1))
    reminder.send_time = dt.time(8, 0)
    reminder.save()
    ReservationFactory(booker=GuestFactory(first_name="Lena"), arrival=today + dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert not [e for e in triggers.tick(now=_at(today, 8, 30)) if e.kind == Trigger.DAILY]
    assert locmem.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        made = triggers.tick(now=_at(today, 9, 0))
    assert [e.key for e in made if e.kind == Trigger.DAILY] == [
        f"daily:{today}",
        f"daily:{today}:campaign:{reminder.pk}",
    ]
    assert [m.body for m in locmem.outbox] == ["See you in two days, Lena"]


def test_quiet_hours_in_the_guests_zone_still_apply(
    make_campaign, top_up, hotel, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    policy = MessagingPolicy.load()
    policy.quiet_start_service, policy.quiet_end_service = dt.time(22), dt.time(8)
    policy.save()
    make_campaign(
        trigger=Trigger.DAILY,
        timing=Timing.DAYS_BEFORE_ARRIVAL,
        offset=2,
        send_time=dt.time(7, 0),  # the hotel's seven is the guest's early morning
        texts={"en": "See you soon"},
    )
    ReservationFactory(
        booker=GuestFactory(phone="+905321234567"),
        arrival=hotel.business_date + dt.timedelta(days=3),
    )
    day = _open_the_day(django_capture_on_commit_callbacks)
    seven = _at(day, 7, 0)
    with time_machine.travel(seven, tick=False), django_capture_on_commit_callbacks(execute=True):
        triggers.tick(now=seven)
    message = OutboundMessage.objects.get()
    assert (message.status, message.hold) == (Status.QUEUED, Hold.QUIET_HOURS)
    assert message.not_before == dt.datetime.combine(day, dt.time(8), tzinfo=ISTANBUL)


def test_the_editor_says_when_the_next_run_goes(reminder, hotel) -> None:
    _occurrence, when = next_occurrence(reminder)
    assert when == f"The daily run for the business date {hotel.business_date:%d.%m.%Y} at 10:00."


def test_only_a_daily_campaign_has_a_send_time(make_campaign) -> None:
    hourly = make_campaign(trigger=Trigger.HOURLY, send_time=dt.time(10))
    assert "Only a daily campaign" in definition_errors(hourly)["send_time"][0]
    assert "send_time" not in definition_errors(
        make_campaign(trigger=Trigger.DAILY, send_time=dt.time(10))
    )
