"""Companions added in the portal become guest profiles on the stay, without duplicates (P2, G5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guests.models import Guest, ReservationCompanion
from guests.selectors import guest_find_duplicates
from guests.services import reservation_add_companion
from interfaces.portal import selectors as portal_selectors
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


def _stranger() -> Guest:
    """Guest B: a verified profile of her own, with a stay of her own later on."""
    emma = GuestFactory(
        first_name="Emma",
        last_name="Smith",
        email="emma@example.org",
        email_verified=True,
        phone="+447400123456",
    )
    arrival = timezone.localdate() + dt.timedelta(days=60)
    ReservationFactory(booker=emma, arrival=arrival, departure=arrival + dt.timedelta(days=3))
    return emma


def _page_after(client, response) -> str:
    """What the guest sees after the form: the page, with the success line."""
    assert response.status_code == 302
    return client.get(response.url).content.decode()


@pytest.mark.parametrize(
    "contact",
    [{"email": "Emma@Example.org"}, {"phone": "+44 7400 123456"}],
    ids=["email", "phone"],
)
def test_another_guests_profile_is_never_attached(signed_in, stay, contact) -> None:
    """Guest A types guest B's e-mail or phone and first name: B's profile stays hers alone."""
    emma = _stranger()
    page = _page_after(signed_in, _add(signed_in, stay, first_name="Emma", **contact))
    [companion] = stay.companions.all()
    assert companion.pk != emma.pk  # a new profile, as A described her
    assert (companion.first_name, companion.last_name, companion.source) == ("Emma", "", "portal")
    assert not companion.email_verified  # nobody proved the address is hers
    link = ReservationCompanion.objects.get(reservation=stay)
    assert link.added_by == stay.booker  # marked as added by the guest in the portal
    # A learns nothing he did not type: not B's last name, not her other details.
    assert "Smith" not in page
    # B's profile is not on A's stay: she does not see it in the portal, nor get its messages.
    assert not emma.companion_links.exists()
    assert stay not in portal_selectors.guest_stays(emma)
    emma.refresh_from_db()
    assert (emma.email, emma.email_verified, emma.phone) == (
        "emma@example.org",
        True,
        "+447400123456",
    )
    # Staff see the two profiles as possible duplicates, to merge if they are one person.
    assert emma in guest_find_duplicates(companion)


def test_the_holder_of_a_typed_number_signs_in_to_her_own_profile(signed_in, stay) -> None:
    """A's companion has B's number and an earlier stay: B still signs in to her own profile."""
    emma = _stranger()
    _add(signed_in, stay, first_name="Emma", phone="+44 7400 123456")
    assert portal_selectors.guest_for_login("+447400123456") == emma
    other = Client()
    ask_for_code(other, "+447400123456")
    enter_code(other, code_in(sms_to("+447400123456")[-1]))
    page = other.get(reverse("portal:home")).content.decode()
    own = emma.reservations.get()
    assert own.number in page and stay.number not in page


def test_the_answer_is_the_same_whether_a_contact_is_known_or_not(signed_in, stay) -> None:
    """No account enumeration: a known e-mail gets exactly the answer an unknown one gets."""
    _stranger()
    known = _page_after(
        signed_in, _add(signed_in, stay, first_name="Emma", email="emma@example.org")
    )
    unknown = _page_after(
        signed_in, _add(signed_in, stay, first_name="Max", email="max@example.org")
    )
    assert "Emma is on your stay now." in known
    assert "Max is on your stay now." in unknown
    assert Guest.objects.filter(first_name="Max").count() == 1
    assert [g.first_name for g in stay.companions.order_by("pk")] == ["Emma", "Max"]


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


@pytest.mark.parametrize(
    "reservation",
    ["abc", "", None, "1.5", "-1", "99999999999999999999", "other"],
    ids=["not a number", "empty", "missing", "decimal", "negative", "huge", "someone else's"],
)
def test_a_tampered_stay_field_is_refused_in_the_guests_language(
    signed_in, stay, guest, reservation
) -> None:
    """The hidden stay field is the guest's to change: any value but his stay is a clear 400."""
    guest.language = "tr"
    guest.save(update_fields=["language"])
    other = ReservationFactory()
    value = {"other": str(other.pk)}.get(reservation or "", reservation)
    data = {"first_name": "Eve", "last_name": "X"}
    if value is not None:
        data["reservation"] = value
    guests, links = Guest.objects.count(), ReservationCompanion.objects.count()
    response = signed_in.post(reverse("portal:companions"), data)
    assert response.status_code == 400
    assert "Bu konaklama burada değiştirilemez." in response.content.decode()
    assert (Guest.objects.count(), ReservationCompanion.objects.count()) == (guests, links)
    assert not stay.companions.exists() and not other.companions.exists()
