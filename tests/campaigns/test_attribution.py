"""Booking attribution stored when a reservation is made (E4) equals the derived last touch.

The screens read ``BookingAttribution`` rows written when each reservation is made and
rewritten when what decides it changes; ``attributed_bookings`` derives the same from the send
log. On a varied history — bookings inside and outside the window, two campaigns' messages,
a booking before any message, a cancelled stay, a stay recorded as history, a bounce that
arrives after the booking, a booking committed while its message was being sent, a merged
duplicate — the stored figures equal the derived ones, each reservation once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.analytics import attributed_bookings, manager_dashboard, stored_bookings
from campaigns.models import BookingAttribution
from channels_out.models import OutboundMessage, Status
from guests.models import Hotel, Reservation
from guests.services import (
    guest_merge,
    reservation_cancel,
    reservation_create,
    reservation_record_past,
)
from guests.services.reservations import reservation_build, reservations_save_new
from tests.campaigns.test_analytics import campaign, guests, mailgun, message_to, send, webhook
from tests.factories import BoardTypeFactory, GuestFactory, ReservationFactory, RoomTypeFactory

pytestmark = pytest.mark.django_db
__all__ = ["mailgun"]  # the fixture, imported for these tests


def book(guest, rate: str = "100.00", **extra) -> Reservation:
    today = timezone.localdate()
    return reservation_create(
        booker=guest,
        arrival=today + dt.timedelta(days=10),
        departure=today + dt.timedelta(days=12),
        room_type=RoomTypeFactory(),
        board_type=BoardTypeFactory(),
        nightly_rate=Decimal(rate),
        **extra,
    )


def attributed_to(made) -> set[int]:
    return {b.reservation_id for b in stored_bookings(runs=made.runs.all())}


def test_stored_attribution_equals_the_derived_last_touch(
    mailgun, django_capture_on_commit_callbacks, deliver_queued, admin_user
) -> None:
    ayse, bora, cem, deniz, emre, fatma = guests("Ayse", "Bora", "Cem", "Deniz", "Emre", "Fatma")
    start = timezone.now()
    early = book(deniz)  # before any message: a message sent later never touches it
    spring = campaign("Spring offer", mailgun)
    send(
        spring,
        [ayse, bora, cem, deniz, emre],
        django_capture_on_commit_callbacks,
        deliver_queued,
        admin_user,
    )
    with time_machine.travel(start + dt.timedelta(days=1)):
        bora_booking = book(bora)  # attributed … until his message bounces (below)
    with time_machine.travel(start + dt.timedelta(days=2)):
        webhook(
            mailgun,
            message_to(bora, spring),
            "failed",
            severity="permanent",
            reason="bounce",
            **{"delivery-status": {"code": 550, "message": "5.1.1 No such user"}},
        )
        history = reservation_record_past(  # a stay reported by another system: counted
            booker=deniz,
            status=Reservation.Status.CHECKED_OUT,
            arrival=timezone.localdate() - dt.timedelta(days=30),
            departure=timezone.localdate() - dt.timedelta(days=28),
            room_type=RoomTypeFactory(),
            board_type=BoardTypeFactory(),
        )
    with time_machine.travel(start + dt.timedelta(days=3)):
        inside = book(ayse, "120.00")
        # Two stays booked in one statement, as the import writes a chunk (no post_save).
        hotel, today = Hotel.load(), timezone.localdate()
        imported = [
            reservation_build(
                hotel=hotel,
                booker=guest,
                arrival=today + dt.timedelta(days=30),
                departure=today + dt.timedelta(days=32),
                room_type=RoomTypeFactory(),
                board_type=BoardTypeFactory(),
                nightly_rate=Decimal("75.00"),
            )
            for guest in (deniz, fatma)
        ]
        reservations_save_new(imported, hotel=hotel)
        cancelled = book(emre)
        reservation_cancel(reservation=cancelled, reason="plans changed")
    with time_machine.travel(start + dt.timedelta(days=5)):
        spa = campaign("Spa week", mailgun)
        send(spa, [cem], django_capture_on_commit_callbacks, deliver_queued, admin_user)
    with time_machine.travel(start + dt.timedelta(days=7)):
        cem_booking = book(cem)  # two messages: the later one (Spa week) is the last touch
        # A duplicate of Ayşe with no messages books; merged into Ayşe, Ayşe's message counts.
        duplicate = GuestFactory(first_name="Ayse", email="ayse.k@example.com")
        merged_booking = book(duplicate)
        assert not BookingAttribution.objects.filter(reservation=merged_booking).exists()
        guest_merge(source=duplicate, target=ayse)
    with time_machine.travel(start + dt.timedelta(days=20)):
        outside = book(ayse, "90.00")  # 20 days after the message: outside the window
        # A booking committed while Fatma's message was being sent (made after its sent_at).
        racing = ReservationFactory(
            booker=fatma, created_at=timezone.now() + dt.timedelta(seconds=30)
        )
        late = campaign("Late", mailgun)
        send(late, [fatma], django_capture_on_commit_callbacks, deliver_queued, admin_user)

    derived = attributed_bookings()
    stored = stored_bookings()
    assert sorted(stored, key=lambda b: b.reservation_id) == sorted(
        derived, key=lambda b: b.reservation_id
    )
    # Deniz's imported stay: the spring message; Fatma's: no message before it.
    assert attributed_to(spring) == {inside.pk, merged_booking.pk, history.pk, imported[0].pk}
    assert attributed_to(spa) == {cem_booking.pk}
    assert attributed_to(late) == {racing.pk}
    for left_out in (early, bora_booking, cancelled, outside):
        assert left_out.pk not in {b.reservation_id for b in stored}
    # Once: one row per reservation, one booking per reservation in the figures.
    assert len({b.reservation_id for b in stored}) == len(stored) == 6
    assert not BookingAttribution.objects.filter(reservation=bora_booking).exists()
    assert OutboundMessage.objects.get(guest=bora).status == Status.UNDELIVERED
    # The stored row of a booking outside the window and of a cancelled one is kept, not counted.
    assert BookingAttribution.objects.filter(reservation__in=[outside, cancelled]).count() == 2

    with time_machine.travel(start + dt.timedelta(days=21)):
        dashboard = manager_dashboard(days=30)
        assert dashboard.total.bookings == len(attributed_bookings(since=dashboard.since)) == 6
        assert dashboard.total.revenue == sum(
            b.revenue for b in attributed_bookings(since=dashboard.since)
        )


def test_the_rebuild_command_writes_the_rows_and_the_check_finds_a_difference(
    mailgun, django_capture_on_commit_callbacks, deliver_queued, admin_user, capsys
) -> None:
    [ayse] = guests("Ayse")
    spring = campaign("Spring", mailgun)
    send(spring, [ayse], django_capture_on_commit_callbacks, deliver_queued, admin_user)
    booking = book(ayse)
    call_command("attribution_rebuild", "--check")
    BookingAttribution.objects.all().delete()  # as after an upgrade: rows missing
    with pytest.raises(CommandError, match="1 derived not stored"):
        call_command("attribution_rebuild", "--check")
    call_command("attribution_rebuild")
    assert BookingAttribution.objects.get().reservation_id == booking.pk
    call_command("attribution_rebuild", "--check")
    assert "1 attributed booking(s), as derived" in capsys.readouterr().out
