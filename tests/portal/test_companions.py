"""Companions added in the portal become guest profiles on the stay, without duplicates (P2, G5)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guests.models import Guest, ReservationCompanion
from guests.services import reservation_add_companion
from tests.factories import GuestFactory, ReservationFactory

from .conftest import ask_for_code, code_in, enter_code, sms_to

pytestmark = pytest.mark.django_db


def _add(client, stay, **fields: str):
    return client.post(reverse("portal:companions"), {"reservation": stay.pk, **fields})


def test_a_new_companion_becomes_a_profile_on_the_stay(signed_in, stay, guest) -> None:
    response = _add(
        signed_in,
        stay,
        first_name="Emma",
        last_name="Brown",
        email="emma@example.org",
        phone="+44 7400 123456",
    )
    assert response.status_code == 302
    emma = Guest.objects.get(first_name="Emma")
    assert (emma.email, emma.email_verified, emma.phone, emma.source, emma.language) == (
        "emma@example.org",
        False,
        "+447400123456",
        "portal",
        guest.language,
    )
    assert list(stay.companions.all()) == [emma]
    assert "Emma Brown" in signed_in.get(reverse("portal:home")).content.decode()


def test_a_known_phone_links_the_existing_profile(signed_in, stay) -> None:
    known = GuestFactory(first_name="Emma", last_name="Smith", phone="+447400123456", email="")
    before = Guest.objects.count()
    _add(signed_in, stay, first_name="emma", last_name="Brown", phone="+44 7400 123456")
    assert Guest.objects.count() == before
    assert list(stay.companions.all()) == [known]


def test_a_known_verified_email_links_the_existing_profile(signed_in, stay) -> None:
    known = GuestFactory(first_name="Emma", email="emma@example.org", email_verified=True)
    before = Guest.objects.count()
    _add(signed_in, stay, first_name="Emma", email="Emma@Example.org")
    assert Guest.objects.count() == before
    assert list(stay.companions.all()) == [known]


def test_a_stranger_with_the_same_number_is_not_revealed_or_taken_over(signed_in, stay) -> None:
    stranger = GuestFactory(first_name="Ayşe", phone="+447400123456")
    _add(signed_in, stay, first_name="Emma", phone="+447400123456")
    emma = Guest.objects.get(first_name="Emma")
    assert emma.pk != stranger.pk
    assert list(stay.companions.all()) == [emma]  # staff see both in the duplicate check


def test_adding_the_same_companion_twice_makes_one(signed_in, stay) -> None:
    _add(signed_in, stay, first_name="Emma", last_name="Brown")
    _add(signed_in, stay, first_name="Emma", last_name="Brown")
    assert Guest.objects.filter(first_name="Emma").count() == 1
    assert ReservationCompanion.objects.filter(reservation=stay).count() == 1


def test_the_booker_cannot_add_himself(signed_in, stay) -> None:
    response = _add(signed_in, stay, first_name="Oliver", phone="+905321234567")
    assert response.status_code == 400
    assert "your own contact details" in response.content.decode()
    assert not stay.companions.exists()


def test_a_companion_sees_the_stay_but_cannot_add_to_it(client, sending, stay) -> None:
    emma = GuestFactory(first_name="Emma", phone="+905321230000")
    reservation_add_companion(reservation=stay, guest=emma)
    ask_for_code(client, "+905321230000")
    enter_code(client, code_in(sms_to("+905321230000")[-1]))
    page = client.get(reverse("portal:home")).content.decode()
    assert stay.number in page and "Add companion" not in page
    assert _add(client, stay, first_name="Max").status_code == 400
    assert not Guest.objects.filter(first_name="Max").exists()


def test_another_guests_stay_cannot_be_changed(signed_in) -> None:
    other = ReservationFactory()
    assert _add(signed_in, other, first_name="Max").status_code == 400
    assert not other.companions.exists()


def test_a_relay_address_is_refused_for_a_companion(signed_in, stay) -> None:
    response = _add(signed_in, stay, first_name="Emma", email="emma@guest.booking.com")
    assert response.status_code == 400
    assert not Guest.objects.filter(first_name="Emma").exists()
