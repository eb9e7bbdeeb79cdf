"""A stay's dates, rate and party follow one rule (``stay_errors``): the admin, the services and
the front desk refuse an arrival before 2000, a stay over 365 nights, a negative rate or no
adult with a message by the field — never a database constraint's name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guests import services
from guests.models import BoardType, Reservation, RoomType
from tests.factories import GuestFactory, ReservationFactory
from tests.guests.test_admin import _reservation_form, url

pytestmark = pytest.mark.django_db


def add(admin_client, **overrides):  # type: ignore[no-untyped-def]
    return admin_client.post(url(Reservation, "add"), _reservation_form(admin_client, **overrides))


def form_errors(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, "the form should be shown again"
    return dict(response.context["adminform"].form.errors)


def test_the_admin_refuses_an_arrival_before_2000_by_the_field(
    admin_client, reference_data, hotel
) -> None:
    errors = form_errors(
        add(admin_client, booker=GuestFactory().pk, arrival="1999-12-30", departure="2000-01-02")
    )

    assert set(errors) == {"arrival"}
    assert "before 01.01.2000" in errors["arrival"][0]
    assert not Reservation.objects.exists()


def test_the_admin_refuses_a_stay_of_more_than_365_nights(
    admin_client, reference_data, hotel
) -> None:
    arrival = hotel.business_date
    errors = form_errors(
        add(
            admin_client,
            booker=GuestFactory().pk,
            arrival=arrival.isoformat(),
            departure=(arrival + dt.timedelta(days=366)).isoformat(),
        )
    )

    assert errors == {"departure": ["A stay can last at most 365 nights; this one has 366."]}
    assert not Reservation.objects.exists()


def test_a_negative_rate_gets_a_message_by_the_field_not_a_constraint_name(
    admin_client, reference_data, hotel
) -> None:
    arrival = hotel.business_date
    response = add(
        admin_client,
        booker=GuestFactory().pk,
        arrival=arrival.isoformat(),
        departure=(arrival + dt.timedelta(days=2)).isoformat(),
        nightly_rate="-50.00",
    )
    errors = form_errors(response)

    assert errors == {"nightly_rate": ["The nightly rate cannot be negative."]}
    assert "constraint" not in response.content.decode().lower()
    assert not Reservation.objects.exists()


def test_a_stay_without_an_adult_gets_a_message_by_the_field(
    admin_client, reference_data, hotel
) -> None:
    arrival = hotel.business_date
    errors = form_errors(
        add(
            admin_client,
            booker=GuestFactory().pk,
            arrival=arrival.isoformat(),
            departure=(arrival + dt.timedelta(days=2)).isoformat(),
            adults="0",
        )
    )

    assert errors == {"adults": ["A stay needs at least one adult."]}


def test_a_year_long_stay_is_still_accepted(admin_client, reference_data, hotel) -> None:
    arrival = hotel.business_date
    response = add(
        admin_client,
        booker=GuestFactory().pk,
        arrival=arrival.isoformat(),
        departure=(arrival + dt.timedelta(days=365)).isoformat(),
    )

    assert response.status_code == 302
    assert Reservation.objects.get().nights == 365


def test_the_services_refuse_the_same_stays(reference_data, hotel) -> None:
    booker = GuestFactory()
    common = {
        "booker": booker,
        "room_type": RoomType.objects.first(),
        "board_type": BoardType.objects.first(),
    }
    with pytest.raises(ValidationError) as too_early:
        services.reservation_create(
            arrival=dt.date(1999, 6, 1), departure=dt.date(1999, 6, 3), **common
        )
    with pytest.raises(ValidationError) as negative:
        services.reservation_create(
            arrival=hotel.business_date,
            departure=hotel.business_date + dt.timedelta(days=1),
            nightly_rate=Decimal("-1"),
            **common,
        )
    stay = ReservationFactory(booker=booker)
    with pytest.raises(ValidationError) as too_long:
        services.reservation_modify(
            reservation=stay, departure=stay.arrival + dt.timedelta(days=400)
        )

    assert set(too_early.value.message_dict) == {"arrival"}
    assert negative.value.message_dict == {"nightly_rate": ["The nightly rate cannot be negative."]}
    assert set(too_long.value.message_dict) == {"departure"}
    assert Reservation.objects.count() == 1
