"""Stored booking attribution (E4) equals the derivation when its inputs change at once.

Two transactions on PostgreSQL (READ COMMITTED), each on its own connection: the first
does its work and waits before committing; the second runs until it has finished or waits
for a lock; then the first commits. Whatever the order — a reservation made while a
campaign message of its booker is sent or bounces, two messages of one booker bouncing at
once, a merge while a message bounces, the import's batch while a message bounces — the
stored rows equal ``last_touches`` once both have committed, and neither transaction fails
(no deadlock).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from campaigns import attribution
from campaigns.models import BookingAttribution, Campaign, CampaignRun, Trigger
from channels_out.models import ChannelAccount, OutboundMessage, Status
from channels_out.services import Step, message_apply_status
from guests.models import Guest, Hotel, Reservation
from guests.services import guest_merge, reservation_create
from guests.services.reservations import reservation_build, reservations_save_new
from tests.factories import BoardTypeFactory, GuestFactory, RoomTypeFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 20  # seconds before a stuck interleaving fails the test


class Side(threading.Thread):
    """One transaction on its own connection. With ``hold``, it stops before committing (or
    where its work calls ``pause``) until ``release``."""

    def __init__(self, work: Callable[[], Any], *, hold: bool) -> None:
        super().__init__(daemon=True)
        self.work, self.hold = work, hold
        self.held, self.go = threading.Event(), threading.Event()
        self.started_sql = threading.Event()
        self.pid: int | None = None
        self.error: BaseException | None = None
        self.paused = False

    def pause(self) -> None:
        if self.hold and not self.paused and threading.current_thread() is self:
            self.paused = True
            self.held.set()
            assert self.go.wait(WAIT)

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.started_sql.set()
            with transaction.atomic():
                self.work()
                self.pause()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.held.set()
            connection.close()

    def release(self) -> None:
        self.go.set()


def _done_or_waiting(side: Side) -> None:
    """Wait until ``side`` has committed or waits for a lock held by the other transaction."""
    assert side.started_sql.wait(WAIT)
    deadline = time.monotonic() + WAIT
    while side.is_alive():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [side.pid]
            )
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        assert time.monotonic() < deadline, "the second transaction neither finished nor waited"
        time.sleep(0.01)


def interleave(first: Callable[[], Any], second: Callable[[], Any]) -> None:
    """``first`` does its work and holds its transaction open while ``second`` runs; then both
    commit. Neither may fail."""
    one = Side(first, hold=True)
    one.start()
    assert one.held.wait(WAIT)
    two = Side(second, hold=False)
    two.start()
    _done_or_waiting(two)
    one.release()
    one.join(WAIT)
    two.join(WAIT)
    assert not one.is_alive() and not two.is_alive()
    assert one.error is None, one.error
    assert two.error is None, two.error


def stored() -> dict[int, int]:
    return dict(BookingAttribution.objects.values_list("reservation_id", "message_id"))


def derived() -> dict[int, int]:
    rows = list(Reservation.objects.values_list("pk", "booker_id", "created_at"))
    return {pk: touch.message_id for pk, touch in attribution.last_touches(rows).items()}


def assert_stored_is_derived() -> None:
    assert stored() == derived()
    call_command("attribution_rebuild", "--check")


@pytest.fixture
def touch(accounts) -> Callable[..., OutboundMessage]:
    """A campaign message to ``guest`` in a run of its own, sent ``ago`` or still queued."""
    account: ChannelAccount = accounts["sms"]
    campaign = Campaign.objects.create(name="Spring")
    count = iter(range(100))

    def make(guest: Guest, *, ago: dt.timedelta | None = None) -> OutboundMessage:
        n = next(count)
        run = CampaignRun.objects.create(
            campaign=campaign, trigger=Trigger.OPERATOR, occurrence=f"op:{n}"
        )
        sent = ago is not None
        return OutboundMessage.objects.create(
            dedupe_key=f"race:{n}",
            channel="sms",
            purpose="marketing",
            account=account,
            backend=account.backend,
            guest=guest,
            to=guest.phone or "+905321234567",
            origin=run,
            status=Status.SENT if sent else Status.QUEUED,
            sent_at=timezone.now() - ago if sent else None,
        )

    return make


def book(guest: Guest) -> Reservation:
    today = timezone.localdate()
    return reservation_create(
        booker=Guest.objects.get(pk=guest.pk),
        arrival=today + dt.timedelta(days=10),
        departure=today + dt.timedelta(days=12),
        room_type=RoomTypeFactory(),
        board_type=BoardTypeFactory(),
        nightly_rate=Decimal("100.00"),
    )


def becomes(message: OutboundMessage, status: str) -> Callable[[], None]:
    def work() -> None:
        assert message_apply_status(
            OutboundMessage.objects.get(pk=message.pk), status, source="provider"
        )

    return work


def test_a_booking_while_its_message_is_being_sent_is_attributed_to_it(touch) -> None:
    ayse = GuestFactory()
    message = touch(ayse)  # queued
    interleave(becomes(message, Status.SENT), lambda: book(ayse))
    [booking] = Reservation.objects.filter(booker=ayse)
    assert booking.created_at >= OutboundMessage.objects.get(pk=message.pk).sent_at
    assert stored() == {booking.pk: message.pk}
    assert_stored_is_derived()


@pytest.mark.parametrize("booking_first", [False, True], ids=["bounce-first", "booking-first"])
def test_a_booking_while_its_message_bounces_is_not_attributed_to_it(
    touch, booking_first: bool
) -> None:
    ayse = GuestFactory()
    message = touch(ayse, ago=dt.timedelta(days=1))
    bounce, booking = becomes(message, Status.FAILED), lambda: book(ayse)
    interleave(*((booking, bounce) if booking_first else (bounce, booking)))
    assert Reservation.objects.filter(booker=ayse).count() == 1
    assert stored() == {}
    assert_stored_is_derived()


def test_a_booking_whose_derivation_waits_while_its_message_bounces(touch, monkeypatch) -> None:
    """The booking has read its last touch and not yet written it when the bounce arrives:
    the bounce waits for it (no deadlock) and then attributes it again."""
    ayse = GuestFactory()
    message = touch(ayse, ago=dt.timedelta(days=1))
    sides: list[Side] = []
    derive = attribution.last_touches

    def derive_then_pause(rows):
        found = derive(rows)
        for side in sides:
            side.pause()
        return found

    monkeypatch.setattr(attribution, "last_touches", derive_then_pause)
    one = Side(lambda: book(ayse), hold=True)
    sides.append(one)
    one.start()
    assert one.held.wait(WAIT)
    two = Side(becomes(message, Status.FAILED), hold=False)
    two.start()
    _done_or_waiting(two)
    one.release()
    one.join(WAIT)
    two.join(WAIT)
    assert one.error is None and two.error is None, (one.error, two.error)
    monkeypatch.undo()
    assert stored() == {}
    assert_stored_is_derived()


@pytest.mark.parametrize("later_first", [False, True], ids=["earlier-first", "later-first"])
def test_two_messages_of_one_booker_bouncing_at_once(touch, later_first: bool) -> None:
    ayse = GuestFactory()
    earlier = touch(ayse, ago=dt.timedelta(days=3))
    later = touch(ayse, ago=dt.timedelta(days=2))
    booking = book(ayse)
    assert stored() == {booking.pk: later.pk}
    one, two = becomes(earlier, Status.FAILED), becomes(later, Status.FAILED)
    interleave(*((two, one) if later_first else (one, two)))
    assert stored() == {}
    assert_stored_is_derived()


@pytest.mark.parametrize("merge_first", [False, True], ids=["bounce-first", "merge-first"])
def test_a_merge_while_the_survivors_message_bounces(touch, merge_first: bool) -> None:
    ayse, duplicate = GuestFactory(), GuestFactory()
    message = touch(ayse, ago=dt.timedelta(days=2))
    booking = book(duplicate)  # the duplicate had no message: nothing to attribute
    assert stored() == {}

    def merge() -> None:
        guest_merge(source=Guest.objects.get(pk=duplicate.pk), target=Guest.objects.get(pk=ayse.pk))

    bounce = becomes(message, Status.FAILED)
    interleave(*((merge, bounce) if merge_first else (bounce, merge)))
    assert Reservation.objects.get(pk=booking.pk).booker_id == ayse.pk
    assert stored() == {}
    assert_stored_is_derived()


def test_an_imported_batch_while_its_bookers_message_bounces(touch) -> None:
    ayse, bora = GuestFactory(), GuestFactory()
    message = touch(ayse, ago=dt.timedelta(days=1))
    bora_message = touch(bora, ago=dt.timedelta(days=1))

    def batch() -> None:
        hotel, today = Hotel.load(), timezone.localdate()
        reservations_save_new(
            [
                reservation_build(
                    hotel=hotel,
                    booker=guest,
                    arrival=today + dt.timedelta(days=30),
                    departure=today + dt.timedelta(days=32),
                    room_type=RoomTypeFactory(),
                    board_type=BoardTypeFactory(),
                    nightly_rate=Decimal("75.00"),
                )
                for guest in (ayse, bora)
            ],
            hotel=hotel,
        )

    interleave(becomes(message, Status.FAILED), batch)
    assert stored() == {Reservation.objects.get(booker=bora).pk: bora_message.pk}
    assert_stored_is_derived()


@pytest.mark.parametrize("merge_first", [False, True], ids=["booking-first", "merge-first"])
def test_a_booking_for_the_survivor_while_a_merge_brings_him_a_message(
    touch, merge_first: bool
) -> None:
    ayse, duplicate = GuestFactory(), GuestFactory()
    message = touch(duplicate, ago=dt.timedelta(days=2))  # Ayşe herself had none

    def merge() -> None:
        guest_merge(source=Guest.objects.get(pk=duplicate.pk), target=Guest.objects.get(pk=ayse.pk))

    booking = lambda: book(ayse)  # noqa: E731
    interleave(*((merge, booking) if merge_first else (booking, merge)))
    assert OutboundMessage.objects.get(pk=message.pk).guest_id == ayse.pk
    assert stored() == {Reservation.objects.get(booker=ayse).pk: message.pk}
    assert_stored_is_derived()


@pytest.mark.parametrize("merge_first", [False, True], ids=["bounce-first", "merge-first"])
def test_a_bounce_that_falls_back_while_the_guest_is_merged(touch, merge_first: bool) -> None:
    """The bounce queues the next step for the guest (a row pointing at him) and the merge
    locks him: one waits for the other, neither fails."""
    ayse, duplicate = GuestFactory(phone="+905321112233"), GuestFactory()
    message = touch(ayse, ago=dt.timedelta(days=2))
    OutboundMessage.objects.filter(pk=message.pk).update(
        fallback_plan=[Step(channel="sms", text="Spring at the hotel").as_plan_item()]
    )
    booking = book(ayse)
    assert stored() == {booking.pk: message.pk}

    def merge() -> None:
        guest_merge(source=Guest.objects.get(pk=duplicate.pk), target=Guest.objects.get(pk=ayse.pk))

    bounce = becomes(message, Status.FAILED)
    interleave(*((merge, bounce) if merge_first else (bounce, merge)))
    assert OutboundMessage.objects.filter(fallback_for=message, guest=ayse).exists()
    assert stored() == {}
    assert_stored_is_derived()
