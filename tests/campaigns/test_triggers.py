"""Each trigger end to end through the in-memory backend; nothing twice, nothing from a rollback (C2, R1, R2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns import triggers
from campaigns.models import CampaignRun, Timing, Trigger, TriggerEvent
from campaigns.services import run_send_chunk
from campaigns.triggers import trigger_event_process
from channels_out.backends import locmem
from channels_out.models import OutboundMessage, SkipReason, Status
from guests.models import Hotel, Reservation
from guests.services import (
    night_audit_run,
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_create,
)
from tests.factories import BoardTypeFactory, GuestFactory, ReservationFactory, RoomTypeFactory

pytestmark = pytest.mark.django_db


def _texts() -> list[str]:
    return [m.body for m in locmem.outbox]


@pytest.fixture
def welcome(make_campaign, top_up):
    top_up(100)
    return make_campaign(
        trigger=Trigger.CHECK_IN,
        texts={"en": "Welcome @NAME, room @ROOM", "tr": "Hoş geldiniz @NAME"},
    )


def test_a_check_in_sends_the_welcome_message_in_the_guests_language(
    welcome, hotel, django_capture_on_commit_callbacks
) -> None:
    guest = GuestFactory(first_name="Ayşe", language="tr")
    reservation = ReservationFactory(booker=guest, arrival=hotel.business_date)
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=reservation, room_number="214")
    assert _texts() == ["Hoş geldiniz Ayşe"]
    message = OutboundMessage.objects.get()
    run = CampaignRun.objects.get()
    assert (message.origin, message.reservation, message.source, message.language) == (
        run,
        reservation,
        "campaign",
        "tr",
    )
    assert run.trigger == Trigger.CHECK_IN


def test_a_rolled_back_check_in_sends_nothing(
    welcome, hotel, django_capture_on_commit_callbacks
) -> None:
    reservation = ReservationFactory(arrival=hotel.business_date)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        reservation_check_in(reservation=reservation)
        raise RuntimeError("the desk cancelled")
    assert not TriggerEvent.objects.exists()
    assert not OutboundMessage.objects.exists()
    assert locmem.outbox == []


def test_processing_an_event_twice_or_a_retried_chunk_sends_nothing_twice(
    welcome, hotel, django_capture_on_commit_callbacks
) -> None:
    reservation = ReservationFactory(arrival=hotel.business_date)
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=reservation)
    event = TriggerEvent.objects.get()
    TriggerEvent.objects.filter(pk=event.pk).update(processed_at=None)  # as if its task ran twice
    with django_capture_on_commit_callbacks(execute=True):
        trigger_event_process(event.pk)
        run = CampaignRun.objects.get()
        run_send_chunk(run.pk, [reservation.pk])  # a retried chunk task
    assert OutboundMessage.objects.count() == 1
    assert len(locmem.outbox) == 1


def test_the_event_is_recorded_in_the_same_transaction_and_picked_up_if_its_task_is_lost(
    welcome, hotel
) -> None:
    reservation = ReservationFactory(arrival=hotel.business_date)
    with transaction.atomic():
        reservation_check_in(reservation=reservation)  # on-commit task never runs in this test
    event = TriggerEvent.objects.get()
    assert event.processed_at is None
    later = timezone.now() + triggers.PENDING_AFTER + dt.timedelta(seconds=1)
    assert triggers.pending_events(now=later) == [event.pk]
    trigger_event_process(event.pk)
    event.refresh_from_db()
    assert event.processed_at is not None
    assert OutboundMessage.objects.filter(reservation=reservation).count() == 1


def test_no_event_is_recorded_when_no_campaign_listens(hotel) -> None:
    reservation = ReservationFactory(arrival=hotel.business_date)
    reservation_check_in(reservation=reservation)
    assert not TriggerEvent.objects.exists()


@pytest.mark.parametrize(
    ("trigger", "act"),
    [
        (Trigger.CHECK_OUT, lambda r: reservation_check_out(reservation=r)),
        (Trigger.CANCELLATION, lambda r: reservation_cancel(reservation=r, reason="plans changed")),
    ],
)
def test_check_out_and_cancellation_send_their_message(
    make_campaign, top_up, hotel, trigger, act, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    make_campaign(trigger=trigger, texts={"en": f"{trigger}: @RESNO"})
    status = (
        Reservation.Status.CHECKED_IN
        if trigger == Trigger.CHECK_OUT
        else Reservation.Status.CONFIRMED
    )
    reservation = ReservationFactory(
        status=status, arrival=hotel.business_date - dt.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        act(reservation)
    assert _texts() == [f"{trigger}: {reservation.number}"]


def test_a_new_reservation_gets_its_confirmation(
    make_campaign, top_up, hotel, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    make_campaign(
        trigger=Trigger.RESERVATION_CREATED, texts={"en": "Confirmed: @ARRIVAL to @DEPARTURE"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        reservation_create(
            booker=GuestFactory(),
            arrival=dt.date(2026, 12, 1),
            departure=dt.date(2026, 12, 4),
            room_type=RoomTypeFactory(),
            board_type=BoardTypeFactory(),
        )
    assert _texts() == ["Confirmed: 1 Dec 2026 to 4 Dec 2026"]


def test_a_stay_with_notifications_off_gets_nothing(
    welcome, hotel, django_capture_on_commit_callbacks
) -> None:
    reservation = ReservationFactory(arrival=hotel.business_date, send_notifications=False)
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=reservation)
    assert locmem.outbox == []


class TestDaily:
    @pytest.fixture
    def pre_arrival(self, make_campaign, top_up):
        top_up(100)
        return make_campaign(
            trigger=Trigger.DAILY,
            timing=Timing.DAYS_BEFORE_ARRIVAL,
            offset=3,
            texts={"en": "See you on @ARRIVAL, @NAME"},
        )

    def test_the_night_audit_sends_three_days_before_arrival_and_a_rerun_sends_nothing_more(
        self, pre_arrival, hotel, django_capture_on_commit_callbacks
    ) -> None:
        closing = hotel.business_date
        due = ReservationFactory(
            arrival=closing + dt.timedelta(days=4)
        )  # 3 days after the new business date
        ReservationFactory(arrival=closing + dt.timedelta(days=6))  # not yet
        with django_capture_on_commit_callbacks(execute=True):
            night_audit_run()
        assert [m.reservation_id for m in OutboundMessage.objects.all()] == [due.pk]
        # A re-run of the same day (the event again, a second beat's tick) adds nothing.
        event = TriggerEvent.objects.get(kind=Trigger.DAILY)
        TriggerEvent.objects.filter(pk=event.pk).update(processed_at=None)
        with django_capture_on_commit_callbacks(execute=True):
            trigger_event_process(event.pk)
            triggers.tick(now=timezone.now().replace(hour=23))
        assert OutboundMessage.objects.count() == 1
        assert len(locmem.outbox) == 1

    def test_a_campaign_edited_mid_day_does_not_resend(
        self, pre_arrival, hotel, django_capture_on_commit_callbacks
    ) -> None:
        ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=4))
        with django_capture_on_commit_callbacks(execute=True):
            night_audit_run()
        pre_arrival.variants.update(text="A better text for @NAME")
        run = CampaignRun.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            run_send_chunk(run.pk, list(Reservation.objects.values_list("pk", flat=True)))
        assert len(locmem.outbox) == 1

    @pytest.mark.parametrize("catch_up", [True, False])
    def test_a_late_booking_is_caught_up_only_when_the_campaign_says_so(
        self, pre_arrival, hotel, catch_up, django_capture_on_commit_callbacks
    ) -> None:
        pre_arrival.catch_up = catch_up
        pre_arrival.save()
        # Booked today for the day after tomorrow: its "3 days before" moment has passed.
        late = ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=3))
        with django_capture_on_commit_callbacks(execute=True):
            night_audit_run()
        sent = list(OutboundMessage.objects.filter(reservation=late))
        assert len(sent) == (1 if catch_up else 0)
        with django_capture_on_commit_callbacks(execute=True):
            night_audit_run()  # the next day: still nothing twice
        assert OutboundMessage.objects.filter(reservation=late).count() == (1 if catch_up else 0)

    def test_without_a_night_audit_the_daily_run_comes_at_the_configured_time(
        self, pre_arrival, hotel, django_capture_on_commit_callbacks
    ) -> None:
        Hotel.objects.filter(pk=hotel.pk).update(
            business_date=timezone.localdate() - dt.timedelta(days=1)
        )
        ReservationFactory(arrival=timezone.localdate() + dt.timedelta(days=3))
        morning = timezone.localtime().replace(hour=8, minute=59)
        nine = morning.replace(hour=9, minute=0)
        with django_capture_on_commit_callbacks(execute=True):
            assert not [e for e in triggers.tick(now=morning) if e.kind == Trigger.DAILY]
            assert [e.kind for e in triggers.tick(now=nine) if e.kind == Trigger.DAILY] == [
                Trigger.DAILY
            ]
            assert not [
                e for e in triggers.tick(now=nine.replace(minute=1)) if e.kind == Trigger.DAILY
            ]
        assert len(locmem.outbox) == 1


def test_two_ticks_in_the_same_hour_make_one_hourly_event(db) -> None:
    now = timezone.localtime().replace(minute=0, second=5)
    first = [e for e in triggers.tick(now=now) if e.kind == Trigger.HOURLY]
    second = [
        e for e in triggers.tick(now=now + dt.timedelta(minutes=1)) if e.kind == Trigger.HOURLY
    ]
    assert len(first) == 1
    assert second == []


def test_a_recipient_whose_message_cannot_render_is_skipped_and_the_others_go(
    make_campaign, top_up, hotel, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    make_campaign(
        trigger=Trigger.DAILY,
        timing=Timing.BIRTHDAY,
        source="guests",
        texts={"en": "Happy birthday @NAME! Your stay: @ARRIVAL"},
    )  # guests have no stay: render error
    today = hotel.business_date + dt.timedelta(days=1)
    GuestFactory(birth_date=today.replace(year=1990))
    with django_capture_on_commit_callbacks(execute=True):
        night_audit_run()
    message = OutboundMessage.objects.get()
    assert (message.status, message.skip_reason) == (Status.SKIPPED, SkipReason.RENDER_ERROR)
    assert CampaignRun.objects.get().render_failures


def test_credits_are_not_needed_to_log_and_run_out_mid_run_without_losing_anyone(
    make_campaign, top_up, hotel, django_capture_on_commit_callbacks
) -> None:
    top_up(Decimal(2))
    make_campaign(trigger=Trigger.DAILY, timing=Timing.DAYS_BEFORE_ARRIVAL, offset=1)
    for _ in range(5):
        ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        night_audit_run()
    statuses = sorted(OutboundMessage.objects.values_list("status", flat=True))
    assert statuses == [Status.SENT, Status.SENT, Status.SKIPPED, Status.SKIPPED, Status.SKIPPED]
