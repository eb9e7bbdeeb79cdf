"""The triggers seeds 000 and 003 name besides check-in and check-out (C2, R1, R2):
reservation modified (which changes count, per campaign), no-show, facility booking made and
cancelled — through the same outbox and dedupe keys."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from campaigns.models import CampaignRun, Source, StayChange, Trigger, TriggerEvent
from campaigns.triggers import trigger_event_process
from campaigns.validation import definition_errors
from channels_out.backends import locmem
from channels_out.models import OutboundMessage
from guests.models import FacilityBooking, FacilityType, Reservation
from guests.services import (
    facility_booking_create,
    facility_booking_set_status,
    reservation_mark_no_show,
    reservation_modify,
)
from tests.factories import (
    FacilityFactory,
    FacilityTypeFactory,
    GuestFactory,
    ReservationFactory,
    RoomTypeFactory,
)

pytestmark = pytest.mark.django_db


def _texts() -> list[str]:
    return sorted(m.body for m in locmem.outbox)


@pytest.fixture
def stay(hotel) -> Reservation:
    return ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=10))


class TestReservationModified:
    @pytest.fixture
    def dates_only(self, make_campaign, top_up):
        top_up(100)
        return make_campaign(
            trigger=Trigger.RESERVATION_MODIFIED,
            stay_changes=[StayChange.DATES],
            texts={"en": "New dates: @ARRIVAL to @DEPARTURE"},
        )

    def test_a_change_of_dates_sends_the_new_dates(
        self, dates_only, stay, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            reservation_modify(reservation=stay, departure=stay.departure + dt.timedelta(days=2))
        stay.refresh_from_db()
        assert _texts() == [f"New dates: {stay.arrival:%-d %b %Y} to {stay.departure:%-d %b %Y}"]

    def test_a_change_the_campaign_does_not_listen_to_sends_nothing(
        self, dates_only, stay, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            reservation_modify(reservation=stay, room_type=RoomTypeFactory(code="SUI"))
            reservation_modify(reservation=stay, notes="late arrival")
        assert not TriggerEvent.objects.exists()
        assert locmem.outbox == []

    def test_each_campaign_hears_its_own_changes(
        self, dates_only, make_campaign, stay, django_capture_on_commit_callbacks
    ) -> None:
        make_campaign(
            trigger=Trigger.RESERVATION_MODIFIED,
            stay_changes=[StayChange.ROOM, StayChange.GUESTS],
            texts={"en": "Room @ROOMTYPE for @ADULTS"},
        )
        with django_capture_on_commit_callbacks(execute=True):
            reservation_modify(reservation=stay, adults=2)
        assert _texts() == [f"Room {stay.room_type.name} for 2"]

    def test_every_modification_is_its_own_message_and_a_repeat_sends_nothing_twice(
        self, dates_only, stay, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            reservation_modify(reservation=stay, departure=stay.departure + dt.timedelta(days=1))
            reservation_modify(reservation=stay, departure=stay.departure + dt.timedelta(days=2))
        assert OutboundMessage.objects.count() == 2
        assert CampaignRun.objects.count() == 2
        for event in TriggerEvent.objects.all():
            TriggerEvent.objects.filter(pk=event.pk).update(processed_at=None)
            with django_capture_on_commit_callbacks(execute=True):
                trigger_event_process(event.pk)
        assert OutboundMessage.objects.count() == 2
        assert len({m.dedupe_key for m in OutboundMessage.objects.all()}) == 2

    def test_a_rolled_back_modification_sends_nothing(
        self, dates_only, stay, django_capture_on_commit_callbacks
    ) -> None:
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            reservation_modify(reservation=stay, departure=stay.departure + dt.timedelta(days=1))
            raise RuntimeError("the desk changed its mind")
        assert not TriggerEvent.objects.exists()
        assert locmem.outbox == []

    def test_no_ticks_means_every_kind_of_change(self, make_campaign) -> None:
        campaign = make_campaign(trigger=Trigger.RESERVATION_MODIFIED)
        assert campaign.hears_changes({"room_number"})
        assert campaign.hears_changes({"arrival"})
        assert campaign.hears_changes({"children"})
        assert not campaign.hears_changes({"notes", "nightly_rate"})


def test_a_no_show_gets_its_message_once(
    make_campaign, top_up, hotel, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    make_campaign(trigger=Trigger.NO_SHOW, texts={"en": "We missed you, @NAME"})
    reservation = ReservationFactory(
        booker=GuestFactory(first_name="Ivan"), arrival=hotel.business_date
    )
    with django_capture_on_commit_callbacks(execute=True):
        reservation_mark_no_show(reservation=reservation)
    assert _texts() == ["We missed you, Ivan"]
    event = TriggerEvent.objects.get()
    TriggerEvent.objects.filter(pk=event.pk).update(processed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        trigger_event_process(event.pk)
    assert OutboundMessage.objects.count() == 1


class TestFacilityBookings:
    @pytest.fixture
    def spa(self):
        return FacilityFactory(name="Hamam", facility_type=FacilityTypeFactory())

    @pytest.fixture
    def campaigns(self, make_campaign, top_up):
        top_up(100)
        return (
            make_campaign(
                trigger=Trigger.FACILITY_BOOKED,
                source=Source.SPA,
                texts={"en": "Booked: @FACILITY at @STARTTIME"},
            ),
            make_campaign(
                trigger=Trigger.FACILITY_CANCELLED,
                source=Source.SPA,
                texts={"en": "Cancelled: @FACILITY"},
            ),
        )

    def _book(self, spa, guest=None):
        return facility_booking_create(
            guest=guest or GuestFactory(),
            facility=spa,
            starts_at=dt.datetime(2026, 12, 20, 15, 0, tzinfo=dt.UTC),
        )

    def test_a_booking_gets_its_confirmation_and_its_cancellation_notice(
        self, campaigns, spa, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            booking = self._book(spa)
        assert _texts() == ["Booked: Hamam at 18:00"]
        with django_capture_on_commit_callbacks(execute=True):
            facility_booking_set_status(booking=booking, status=FacilityBooking.Status.CANCELLED)
        assert _texts() == ["Booked: Hamam at 18:00", "Cancelled: Hamam"]
        keys = " ".join(OutboundMessage.objects.values_list("dedupe_key", flat=True))
        assert f"facilitybooking:{booking.pk}:facility_booked" in keys
        assert f"facilitybooking:{booking.pk}:facility_cancelled" in keys

    def test_attended_is_no_cancellation(
        self, campaigns, spa, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            booking = self._book(spa)
        with django_capture_on_commit_callbacks(execute=True):
            facility_booking_set_status(booking=booking, status=FacilityBooking.Status.ATTENDED)
        assert _texts() == ["Booked: Hamam at 18:00"]

    def test_a_restaurant_booking_is_not_a_spa_campaigns_business(
        self, campaigns, django_capture_on_commit_callbacks
    ) -> None:
        grill = FacilityFactory(
            name="Grill",
            facility_type=FacilityTypeFactory(
                code="ALC", name="À la carte", kind=FacilityType.Kind.RESTAURANT
            ),
        )
        with django_capture_on_commit_callbacks(execute=True):
            self._book(grill)
        assert locmem.outbox == []


@pytest.mark.parametrize(
    ("trigger", "source", "ok"),
    [
        (Trigger.FACILITY_BOOKED, Source.RESERVATIONS, False),
        (Trigger.FACILITY_CANCELLED, Source.FACILITY, True),
        (Trigger.NO_SHOW, Source.SPA, False),
        (Trigger.RESERVATION_MODIFIED, Source.RESERVATIONS, True),
    ],
)
def test_each_event_needs_the_source_it_happens_to(make_campaign, trigger, source, ok) -> None:
    errors = definition_errors(make_campaign(trigger=trigger, source=source))
    assert ("source" not in errors) is ok


def test_changes_that_count_belong_to_a_modified_campaign_only(make_campaign) -> None:
    errors = definition_errors(
        make_campaign(trigger=Trigger.CHECK_IN, stay_changes=[StayChange.DATES])
    )
    assert "stay_changes" in errors
    errors = definition_errors(
        make_campaign(trigger=Trigger.RESERVATION_MODIFIED, stay_changes=["x"])
    )
    assert "stay_changes" in errors
