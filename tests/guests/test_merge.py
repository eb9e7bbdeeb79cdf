"""Duplicate guests merge into one profile, losing nothing (G5)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guests.models import (
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    FacilityBooking,
    GreylistEntry,
    Guest,
    GuestMerge,
    Reservation,
)
from guests.selectors import guest_find_duplicates
from guests.services import (
    guest_confirm_contact,
    guest_greylist,
    guest_merge,
    guest_record_consent,
)
from tests.factories import FacilityFactory, GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db


def test_everything_pointing_at_the_duplicate_moves_to_the_survivor(django_user_model) -> None:
    staff = django_user_model.objects.create_user("fd", password="x")
    target = GuestFactory(first_name="Anna", email="", outstanding_balance=Decimal("10.00"))
    source = GuestFactory(
        first_name="Anna",
        email="anna@example.com",
        birth_date=dt.date(1990, 5, 1),
        outstanding_balance=Decimal("5.50"),
        allergens="nuts",
    )
    stay = ReservationFactory(booker=source, status=Reservation.Status.CHECKED_OUT)
    shared = ReservationFactory(booker=target)
    shared.companions.add(source)  # the duplicate travelled on the survivor's booking
    other = ReservationFactory()
    other.companions.add(source)
    FacilityBooking.objects.create(
        guest=source, facility=FacilityFactory(), starts_at=stay.created_at
    )
    guest_record_consent(
        guest=source,
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )
    guest_greylist(guest=source, reason="rude to staff")

    merge = guest_merge(source=source, target=target, user=staff, reason="same person")

    assert not Guest.objects.filter(pk=source.pk).exists()
    stay.refresh_from_db()
    assert stay.booker == target
    assert list(shared.companions.all()) == []  # not a companion on his own booking
    assert list(other.companions.all()) == [target]
    assert FacilityBooking.objects.get().guest == target
    assert ConsentRecord.objects.get().guest == target
    assert GreylistEntry.objects.get().guest == target
    target.refresh_from_db()
    assert target.email == "anna@example.com"
    assert target.birth_date == dt.date(1990, 5, 1)
    assert target.outstanding_balance == Decimal("15.50")
    assert target.allergens == "nuts"
    assert target.stay_count == 1
    assert merge.merged_by == staff
    assert merge.source_snapshot["email"] == "anna@example.com"
    assert merge.moved["guests.reservation"] == 1
    assert merge.moved["guests.consentrecord"] == 1


def test_a_guest_cannot_be_merged_into_himself() -> None:
    guest = GuestFactory()
    with pytest.raises(ValidationError, match="himself"):
        guest_merge(source=guest, target=guest)
    assert GuestMerge.objects.count() == 0


def test_duplicates_are_found_by_phone_email_or_name_and_birth_date() -> None:
    guest = GuestFactory(
        first_name="Ivan",
        last_name="Petrov",
        phone="+79123456789",
        email="ivan@example.com",
        birth_date=dt.date(1980, 1, 2),
    )
    same_phone = GuestFactory(phone="+79123456789", email="x@example.com")
    same_email = GuestFactory(email="IVAN@example.com")
    same_person = GuestFactory(
        first_name="ivan", last_name="PETROV", birth_date=dt.date(1980, 1, 2), email=""
    )
    GuestFactory(
        first_name="Ivan", last_name="Petrov", birth_date=dt.date(1981, 1, 2), email=""
    )  # other man
    assert set(guest_find_duplicates(guest)) == {same_phone, same_email, same_person}


def test_relay_addresses_never_make_duplicates() -> None:
    one = GuestFactory(email="abc@guest.booking.com", phone="+905320000001")
    GuestFactory(email="abc@guest.booking.com", phone="+905320000002")
    assert list(guest_find_duplicates(one)) == []


def test_an_ota_guest_confirming_a_known_email_is_linked_to_his_profile() -> None:
    known = GuestFactory(email="maria@example.com", email_verified=True, stay_count=3)
    ota = GuestFactory(email="77abc@guest.booking.com", phone="+905329990000")
    booking = ReservationFactory(booker=ota)
    survivor = guest_confirm_contact(guest=ota, email="maria@example.com")
    assert survivor.pk == known.pk
    booking.refresh_from_db()
    assert booking.booker == known
    assert not Guest.objects.filter(pk=ota.pk).exists()


def test_confirming_a_relay_address_is_refused() -> None:
    guest = GuestFactory(email="")
    with pytest.raises(ValidationError, match="relay address"):
        guest_confirm_contact(guest=guest, email="x1@guest.booking.com")
    guest.refresh_from_db()
    assert guest.email == ""
    assert not guest.email_verified


def test_a_new_email_confirmation_verifies_it() -> None:
    guest = GuestFactory(email="old@guest.booking.com")
    survivor = guest_confirm_contact(guest=guest, email="real@example.com")
    survivor.refresh_from_db()
    assert survivor.pk == guest.pk
    assert (survivor.email, survivor.email_verified) == ("real@example.com", True)
