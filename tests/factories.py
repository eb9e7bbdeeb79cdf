"""factory_boy factories for the CRM core; they write through the ORM for speed of setup."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from guests.models import (
    BoardType,
    Facility,
    FacilityType,
    Guest,
    Hotel,
    Reservation,
    RoomType,
)


class BoardTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BoardType
        django_get_or_create = ("code",)

    code = "BB"
    name = "Bed & breakfast"


class RoomTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomType
        django_get_or_create = ("code",)

    code = "STD"
    name = "Standard double"


class FacilityTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FacilityType
        django_get_or_create = ("code",)

    code = "SPA"
    name = "Spa"
    kind = FacilityType.Kind.SPA


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility
        django_get_or_create = ("name",)

    name = "Hamam"
    facility_type = factory.SubFactory(FacilityTypeFactory)


class GuestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guest

    first_name = factory.Sequence(lambda n: f"Guest{n}")
    last_name = "Example"
    email = factory.Sequence(lambda n: f"guest{n}@example.com")
    phone = factory.Sequence(lambda n: f"+90532{n % 10_000_000:07d}")
    phone_valid = True
    language = "en"
    nationality = "GB"


def business_date() -> dt.date:
    return Hotel.load().business_date


class ReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reservation

    booker = factory.SubFactory(GuestFactory)
    arrival = factory.LazyFunction(business_date)
    departure = factory.LazyAttribute(lambda r: r.arrival + dt.timedelta(days=3))
    room_type = factory.SubFactory(RoomTypeFactory)
    board_type = factory.SubFactory(BoardTypeFactory)
    nightly_rate = Decimal("100.00")
    created_at = factory.LazyFunction(timezone.now)
