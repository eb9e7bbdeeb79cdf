"""Every reservation transition, legal and illegal, with its signal and audit row (G4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction

from guests import signals
from guests.models import Hotel, Reservation, ReservationStatusChange
from guests.services import (
    TransitionError,
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_mark_no_show,
    reservation_modify,
)
from tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db
S = Reservation.Status

ACTIONS: dict[str, tuple[Callable[..., Reservation], Any, str]] = {
    "check_in": (reservation_check_in, signals.reservation_checked_in, S.CHECKED_IN),
    "check_out": (reservation_check_out, signals.reservation_checked_out, S.CHECKED_OUT),
    "cancel": (reservation_cancel, signals.reservation_cancelled, S.CANCELLED),
    "no_show": (reservation_mark_no_show, signals.reservation_no_show, S.NO_SHOW),
}
LEGAL = {
    ("check_in", S.CONFIRMED),
    ("check_out", S.CHECKED_IN),
    ("cancel", S.CONFIRMED),
    ("no_show", S.CONFIRMED),
}


@pytest.fixture
def heard() -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """Record every reservation signal sent during the test."""
    events: list[tuple[Any, dict[str, Any]]] = []

    def receiver(signal: Any, **kwargs: Any) -> None:
        events.append((signal, kwargs))

    all_signals = [s for _, s, _ in ACTIONS.values()] + [signals.reservation_modified]
    for signal in all_signals:
        signal.connect(receiver, weak=False)
    yield events
    for signal in all_signals:
        signal.disconnect(receiver)


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("status", [s.value for s in S])
def test_each_transition_is_allowed_only_from_its_status(
    action: str, status: str, heard: list
) -> None:
    service, signal, target = ACTIONS[action]
    reservation = ReservationFactory(status=status)
    changes_before = ReservationStatusChange.objects.count()
    if (action, status) in LEGAL:
        service(reservation=reservation)
        reservation.refresh_from_db()
        assert reservation.status == target
        assert [s for s, _ in heard] == [signal]
        assert heard[0][1]["reservation"].pk == reservation.pk
        change = ReservationStatusChange.objects.get(reservation=reservation, action=action)
        assert (change.from_status, change.to_status) == (status, target)
    else:
        with pytest.raises(TransitionError) as caught:
            service(reservation=reservation)
        assert reservation.number in caught.value.message
        assert S(status).label.lower() in caught.value.message
        reservation.refresh_from_db()
        assert reservation.status == status
        assert heard == []
        assert ReservationStatusChange.objects.count() == changes_before


def test_a_guest_cannot_check_in_before_his_arrival_day(hotel: Hotel) -> None:
    reservation = ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=2))
    with pytest.raises(TransitionError, match="arrives on"):
        reservation_check_in(reservation=reservation)
    reservation.refresh_from_db()
    assert reservation.status == S.CONFIRMED


def test_a_late_arrival_checks_in_while_the_stay_lasts(hotel: Hotel) -> None:
    reservation = ReservationFactory(arrival=hotel.business_date - dt.timedelta(days=1))
    reservation_check_in(reservation=reservation, room_number="214")
    reservation.refresh_from_db()
    assert reservation.status == S.CHECKED_IN
    assert reservation.room_number == "214"
    assert reservation.checked_in_at is not None


def test_a_stay_whose_departure_passed_cannot_check_in(hotel: Hotel) -> None:
    reservation = ReservationFactory(
        arrival=hotel.business_date - dt.timedelta(days=3), departure=hotel.business_date
    )
    with pytest.raises(TransitionError, match="can no longer check in"):
        reservation_check_in(reservation=reservation)


def test_no_show_before_the_arrival_day_is_refused(hotel: Hotel) -> None:
    reservation = ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=1))
    with pytest.raises(TransitionError, match="before its arrival day"):
        reservation_mark_no_show(reservation=reservation)


def test_an_early_departure_moves_the_departure_to_the_business_date(hotel: Hotel) -> None:
    reservation = ReservationFactory(
        arrival=hotel.business_date - dt.timedelta(days=2),
        departure=hotel.business_date + dt.timedelta(days=5),
        status=S.CHECKED_IN,
    )
    reservation_check_out(reservation=reservation)
    reservation.refresh_from_db()
    assert reservation.departure == hotel.business_date
    assert reservation.nights == 2


def test_check_out_counts_the_stay_for_booker_and_companions(hotel: Hotel) -> None:
    from tests.factories import GuestFactory

    companion = GuestFactory()
    reservation = ReservationFactory(
        status=S.CHECKED_IN, arrival=hotel.business_date - dt.timedelta(days=1)
    )
    reservation.companions.add(companion)
    reservation_check_out(reservation=reservation)
    reservation.booker.refresh_from_db()
    companion.refresh_from_db()
    assert reservation.booker.stay_count == 1
    assert companion.stay_count == 1


def test_cancel_keeps_the_reason_and_passes_it_to_listeners(heard: list) -> None:
    reservation = ReservationFactory()
    reservation_cancel(reservation=reservation, reason="flight cancelled")
    reservation.refresh_from_db()
    assert reservation.cancel_reason == "flight cancelled"
    assert heard[0][1]["reason"] == "flight cancelled"


def test_a_failing_listener_rolls_the_transition_back() -> None:
    reservation = ReservationFactory()

    def explode(**kwargs: Any) -> None:
        raise RuntimeError("listener failed")

    signals.reservation_checked_in.connect(explode, weak=False)
    try:
        with pytest.raises(RuntimeError):
            reservation_check_in(reservation=reservation)
    finally:
        signals.reservation_checked_in.disconnect(explode)
    reservation.refresh_from_db()
    assert reservation.status == S.CONFIRMED
    assert not ReservationStatusChange.objects.filter(reservation=reservation).exists()


def test_signals_are_sent_inside_the_transaction_of_the_change() -> None:
    reservation = ReservationFactory()
    seen_in_atomic: list[bool] = []

    def receiver(**kwargs: Any) -> None:
        seen_in_atomic.append(transaction.get_connection().in_atomic_block)

    signals.reservation_checked_in.connect(receiver, weak=False)
    try:
        reservation_check_in(reservation=reservation)
    finally:
        signals.reservation_checked_in.disconnect(receiver)
    assert seen_in_atomic == [True]


class TestModify:
    def test_it_records_what_changed_and_tells_listeners(self, hotel: Hotel, heard: list) -> None:
        reservation = ReservationFactory()
        new_departure = reservation.departure + dt.timedelta(days=2)
        reservation_modify(reservation=reservation, departure=new_departure, room_number="301")
        reservation.refresh_from_db()
        assert reservation.departure == new_departure
        assert reservation.nights == 5
        assert heard[0][0] is signals.reservation_modified
        assert set(heard[0][1]["changes"]) == {"departure", "room_number", "total_amount"}

    def test_nothing_changed_sends_nothing(self, heard: list) -> None:
        reservation = ReservationFactory(room_number="101")
        reservation_modify(reservation=reservation, room_number="101")
        assert heard == []

    def test_impossible_dates_are_refused(self) -> None:
        from django.core.exceptions import ValidationError

        reservation = ReservationFactory()
        with pytest.raises(ValidationError, match="at least one night"):
            reservation_modify(reservation=reservation, departure=reservation.arrival)
        reservation.refresh_from_db()
        assert reservation.nights == 3

    def test_an_in_house_stay_cannot_move_its_arrival(self, hotel: Hotel) -> None:
        reservation = ReservationFactory(status=S.CHECKED_IN)
        with pytest.raises(TransitionError, match="arrival date can no longer change"):
            reservation_modify(
                reservation=reservation, arrival=reservation.arrival - dt.timedelta(days=1)
            )

    @pytest.mark.parametrize("status", [S.CHECKED_OUT, S.CANCELLED, S.NO_SHOW])
    def test_a_closed_stay_cannot_change(self, status: str) -> None:
        reservation = ReservationFactory(status=status)
        with pytest.raises(TransitionError, match="cannot be changed"):
            reservation_modify(reservation=reservation, room_number="999")


def test_changing_dates_or_rate_recomputes_a_derived_total(hotel: Hotel) -> None:
    from decimal import Decimal

    reservation = ReservationFactory(nightly_rate=Decimal("100.00"), total_amount=Decimal("300.00"))
    reservation_modify(
        reservation=reservation, departure=reservation.departure + dt.timedelta(days=1)
    )
    reservation.refresh_from_db()
    assert reservation.total_amount == Decimal("400.00")
    reservation_modify(
        reservation=reservation, nightly_rate=Decimal("90.00"), total_amount=Decimal("333.00")
    )
    reservation.refresh_from_db()
    assert reservation.total_amount == Decimal("333.00")  # an explicit total is kept


def test_an_early_departure_recomputes_the_total(hotel: Hotel) -> None:
    from decimal import Decimal

    reservation = ReservationFactory(
        arrival=hotel.business_date - dt.timedelta(days=2),
        departure=hotel.business_date + dt.timedelta(days=3),
        status=S.CHECKED_IN,
        nightly_rate=Decimal("50.00"),
        total_amount=Decimal("250.00"),
    )
    reservation_check_out(reservation=reservation)
    reservation.refresh_from_db()
    assert reservation.total_amount == Decimal("100.00")


def test_a_refusal_names_the_move_in_plain_words() -> None:
    reservation = ReservationFactory(status=S.CANCELLED)
    with pytest.raises(TransitionError, match="Cannot mark as a no-show reservation"):
        reservation_mark_no_show(reservation=reservation)
