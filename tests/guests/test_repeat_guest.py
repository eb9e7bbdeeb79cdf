"""One definition of a repeat guest (issue 9): a completed stay besides the one in question.
The guest page, the reservation page and a campaign's "repeat guests only" agree on it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from guests.models import Guest, Reservation
from interfaces.staff.roles import FRONT_DESK, sync_roles
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, django_user_model):  # type: ignore[no-untyped-def]
    sync_roles()
    user = django_user_model.objects.create_user("desk")
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    client.force_login(user)
    return client


def _stay(guest: Guest, status: str) -> Reservation:
    reservation = ReservationFactory(booker=guest)
    Reservation.objects.filter(pk=reservation.pk).update(status=status)
    reservation.refresh_from_db()
    return reservation


def test_a_first_stay_just_checked_out_is_not_a_repeat_anywhere(desk, hotel) -> None:
    guest = GuestFactory(stay_count=1)
    stay = _stay(guest, Reservation.Status.CHECKED_OUT)
    assert guest.stays_before(stay) == 0
    assert not guest.is_repeat
    page = desk.get(reverse("guests:reservation-detail", args=[stay.pk])).content.decode()
    assert "earlier stay" not in page
    assert (
        "repeat guest"
        not in desk.get(reverse("guests:guest-detail", args=[guest.pk])).content.decode()
    )


def test_a_guest_back_for_a_second_stay_is_a_repeat_with_one_earlier_stay(desk, hotel) -> None:
    guest = GuestFactory(stay_count=1)
    _stay(guest, Reservation.Status.CHECKED_OUT)
    now = _stay(guest, Reservation.Status.CHECKED_IN)
    assert guest.stays_before(now) == 1
    assert guest.is_repeat
    page = desk.get(reverse("guests:reservation-detail", args=[now.pk])).content.decode()
    assert "1 earlier stay" in page
    assert (
        "repeat guest · 1 stay"
        in desk.get(reverse("guests:guest-detail", args=[guest.pk])).content.decode()
    )


def test_the_second_stay_once_over_still_has_exactly_one_earlier_stay(desk, hotel) -> None:
    guest = GuestFactory(stay_count=2)
    _stay(guest, Reservation.Status.CHECKED_OUT)
    second = _stay(guest, Reservation.Status.CHECKED_OUT)
    assert guest.stays_before(second) == 1 and guest.is_repeat
    page = desk.get(reverse("guests:reservation-detail", args=[second.pk])).content.decode()
    assert "1 earlier stay" in page and "2 earlier stays" not in page


def test_campaign_audiences_use_the_same_threshold() -> None:
    assert Guest.repeat_threshold(this_stay_completed=False) == 1
    assert Guest.repeat_threshold(this_stay_completed=True) == 2
