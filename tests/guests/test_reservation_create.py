"""Creating a reservation (G2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from guests import signals
from guests.models import Hotel, Reservation
from guests.services import reservation_create
from tests.factories import BoardTypeFactory, GuestFactory, RoomTypeFactory

pytestmark = pytest.mark.django_db


def _book(**overrides: Any) -> Reservation:
    today = Hotel.load().business_date
    values: dict[str, Any] = {
        "booker": GuestFactory(),
        "arrival": today,
        "departure": today + dt.timedelta(days=4),
        "room_type": RoomTypeFactory(),
        "board_type": BoardTypeFactory(),
        "nightly_rate": Decimal("120.00"),
    }
    values.update(overrides)
    return reservation_create(**values)


def test_nights_and_total_are_derived_from_dates_and_rate() -> None:
    reservation = _book()
    assert reservation.nights == 4
    assert reservation.total_amount == Decimal("480.00")
    assert reservation.number == f"R{reservation.pk:07d}"


def test_the_notification_switch_defaults_from_the_hotel_setting(hotel: Hotel) -> None:
    hotel.send_notifications_default = False
    hotel.save()
    assert _book().send_notifications is False
    assert _book(send_notifications=True).send_notifications is True


def test_companions_are_linked_once_and_the_booker_is_not_his_own_companion() -> None:
    booker, child = GuestFactory(), GuestFactory()
    reservation = _book(booker=booker, companions=[child, child, booker])
    assert list(reservation.companions.all()) == [child]
    assert reservation.guests() == [booker, child]


def test_departure_must_follow_arrival_and_nothing_is_created() -> None:
    today = Hotel.load().business_date
    with pytest.raises(ValidationError, match="at least one night"):
        _book(departure=today)
    assert not Reservation.objects.exists()


def test_it_announces_the_new_reservation() -> None:
    heard: list[Reservation] = []

    def receiver(reservation: Reservation, **kwargs: Any) -> None:
        heard.append(reservation)

    signals.reservation_created.connect(receiver, weak=False)
    try:
        reservation = _book()
    finally:
        signals.reservation_created.disconnect(receiver)
    assert heard == [reservation]
