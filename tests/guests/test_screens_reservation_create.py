"""The front desk books a stay or a walk-in from the Reservations screen (not only in the
admin), through ``reservation_create``: for a new guest or one on file, every problem shown at
once, nothing written on a refusal, and only for those allowed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from crm_messaging.ui.once import new_nonce
from guests.models import BoardType, Guest, Reservation, RoomType
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

NEW = reverse("guests:reservation-create")
Status = Reservation.Status


@pytest.fixture
def login(client, django_user_model) -> Callable[..., Any]:
    def as_role(role: str) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(role.lower().replace(" ", ""))
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


def booking(hotel, **overrides: Any) -> dict[str, Any]:
    data = {
        "first_name": "Deniz",
        "last_name": "Kaya",
        "phone": "0532 765 43 21",
        "email": "deniz@example.com",
        "language": "tr",
        "arrival": hotel.business_date.isoformat(),
        "departure": (hotel.business_date + dt.timedelta(days=3)).isoformat(),
        "room_type": RoomType.objects.get(code="STD").pk,
        "board_type": BoardType.objects.get(code="BB").pk,
        "room_number": "",
        "adults": "2",
        "children": "0",
        "nightly_rate": "100.00",
        "notes": "",
        "nonce": new_nonce(),
    }
    data.update(overrides)
    return data


def test_the_reservations_screen_offers_a_new_reservation_to_the_front_desk(
    client, login, reference_data, hotel
) -> None:
    login("Front desk")

    page = client.get(reverse("guests:reservation-list")).content.decode()

    assert f'href="{NEW}"' in page
    assert client.get(NEW).status_code == 200


def test_the_front_desk_books_a_new_guest_through_the_service(
    client, login, reference_data, hotel
) -> None:
    user = login("Front desk")

    response = client.post(NEW, booking(hotel))

    reservation = Reservation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("guests:reservation-detail", args=[reservation.pk])
    assert reservation.status == Status.CONFIRMED
    assert (reservation.nights, reservation.total_amount) == (3, Decimal("300.00"))
    assert reservation.booker.full_name == "Deniz Kaya"
    assert reservation.booker.phone == "+905327654321"
    assert reservation.status_changes.get().action == "create"
    assert reservation.status_changes.get().by == user


def test_a_walk_in_is_booked_and_checked_in_at_once(client, login, reference_data, hotel) -> None:
    login("Front desk")

    response = client.post(NEW, booking(hotel, walk_in="on", room_number="214"))

    assert response.status_code == 302
    reservation = Reservation.objects.get()
    assert reservation.status == Status.CHECKED_IN
    assert reservation.room_number == "214"
    assert [c.action for c in reservation.status_changes.order_by("pk")] == ["create", "check_in"]


def test_a_walk_in_arriving_another_day_is_refused(client, login, reference_data, hotel) -> None:
    login("Front desk")
    tomorrow = hotel.business_date + dt.timedelta(days=1)

    response = client.post(
        NEW,
        booking(
            hotel,
            walk_in="on",
            arrival=tomorrow.isoformat(),
            departure=(tomorrow + dt.timedelta(days=2)).isoformat(),
        ),
    )

    assert set(response.context["form"].errors) == {"walk_in"}
    assert not Reservation.objects.exists()
    assert not Guest.objects.exists()


def test_a_guest_on_file_is_booked_from_his_page(client, login, reference_data, hotel) -> None:
    login("Front desk")
    guest = GuestFactory(first_name="Emma")
    page = client.get(reverse("guests:guest-detail", args=[guest.pk])).content.decode()
    assert f'href="{NEW}?guest={guest.pk}"' in page

    form = client.get(NEW, {"guest": guest.pk})
    assert "Emma" in form.content.decode()
    response = client.post(
        NEW,
        {
            key: value
            for key, value in booking(hotel, booker=guest.pk).items()
            if key not in {"first_name", "last_name", "phone", "email", "language"}
        },
    )

    assert response.status_code == 302
    assert Reservation.objects.get().booker == guest
    assert Guest.objects.count() == 1


def test_every_problem_is_shown_at_once_and_nothing_is_written(
    client, login, reference_data, hotel
) -> None:
    login("Front desk")

    response = client.post(
        NEW,
        booking(
            hotel,
            first_name="",
            phone="12",
            email="not an address",
            arrival="1999-05-01",
            departure="1999-04-30",
            nightly_rate="-10",
            adults="0",
        ),
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {
        "first_name",
        "phone",
        "email",
        "arrival",
        "departure",
        "nightly_rate",
        "adults",
    }
    assert not Reservation.objects.exists()
    assert not Guest.objects.exists()


def test_a_refusal_of_the_service_leaves_no_new_guest_behind(
    client, login, reference_data, hotel, monkeypatch
) -> None:
    from django.core.exceptions import ValidationError

    from interfaces.frontdesk.views import booking as view

    def refuse(**kwargs: Any) -> Reservation:
        raise ValidationError({"room_type": "This room type is closed."})

    monkeypatch.setattr(view, "reservation_create", refuse)
    login("Front desk")

    response = client.post(NEW, booking(hotel))

    assert response.context["form"].errors == {"room_type": ["This room type is closed."]}
    assert not Guest.objects.exists()


@pytest.mark.parametrize("role", ["Marketing", "Operator"])
def test_roles_that_do_not_book_are_refused(client, login, reference_data, hotel, role) -> None:
    login(role)

    assert client.get(NEW).status_code == 403
    assert client.post(NEW, booking(hotel)).status_code == 403
    assert not Reservation.objects.exists()
    page = client.get(reverse("guests:reservation-list")).content.decode()
    assert f'href="{NEW}"' not in page


def test_a_user_who_may_book_but_not_check_in_cannot_make_a_walk_in(
    client, django_user_model, reference_data, hotel
) -> None:
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("booker")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="guests",
            codename__in=["view_reservation", "add_reservation", "add_guest"],
        )
    )
    client.force_login(user)

    assert "walk_in" not in client.get(NEW).content.decode()
    assert client.post(NEW, booking(hotel, walk_in="on")).status_code == 403
    assert not Reservation.objects.exists()
