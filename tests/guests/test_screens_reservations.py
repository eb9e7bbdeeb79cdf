"""The front desk's reservation screens (G2, G4): who may open them, the tabs and search, their
cost in queries, and the status actions — each a POST through its service, a refusal shown
as a message that changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guests.models import Reservation, ReservationCompanion, ReservationStatusChange
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("guests:reservation-list")
Status = Reservation.Status


@pytest.fixture
def login(client, django_user_model) -> Callable[..., Any]:
    """Log the test client in as a new user of ``role`` (None: no role at all) and return him."""

    def as_role(role: str | None, username: str = "") -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(
            username or (role or "nobody").lower().replace(" ", ""), first_name=role or "Nobody"
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


@pytest.fixture
def stay(hotel) -> Reservation:
    return ReservationFactory(
        booker=GuestFactory(
            first_name="Ayşe", last_name="Yılmaz", phone="+905321234567", email="ayse@example.com"
        ),
        arrival=hotel.business_date,
    )


def detail(reservation: Reservation) -> str:
    return reverse("guests:reservation-detail", args=[reservation.pk])


def action(name: str, reservation: Reservation) -> str:
    return reverse(f"guests:reservation-{name}", args=[reservation.pk])


def shown(response) -> list[int]:
    return [r.pk for r in response.context["page"].object_list]


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Who may open them ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["Front desk", "Manager", "Marketing", "Operator"])
def test_every_role_that_may_view_reservations_opens_the_list_and_a_page(
    client, login, stay, role
) -> None:
    login(role)
    assert client.get(LIST).status_code == 200
    assert client.get(detail(stay)).status_code == 200


def test_a_user_without_the_permission_is_refused_every_screen_and_action(
    client, login, stay
) -> None:
    login(None)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(stay)).status_code == 403
    assert client.get(action("messages", stay)).status_code == 403
    for name in ("check-in", "check-out", "cancel", "no-show", "notifications", "send"):
        assert client.post(action(name, stay)).status_code == 403
    stay.refresh_from_db()
    assert stay.status == Status.CONFIRMED


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, stay) -> None:
    for url in (LIST, detail(stay)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert client.post(action("check-in", stay))["Location"].startswith(reverse("login"))


def test_viewers_without_the_change_permission_see_no_actions_and_may_not_post_them(
    client, login, stay
) -> None:
    login("Marketing")
    page = client.get(detail(stay)).content.decode()
    assert "Check in" not in page
    assert 'id="send-form"' not in page
    assert client.post(action("check-in", stay)).status_code == 403
    stay.refresh_from_db()
    assert stay.status == Status.CONFIRMED


def test_status_actions_accept_only_post(client, login, stay) -> None:
    login("Front desk")
    assert client.get(action("check-in", stay)).status_code == 405


# --- The list ------------------------------------------------------------------------------------


def test_the_tabs_sort_stays_by_what_the_desk_has_to_do_today(client, login, hotel) -> None:
    today = hotel.business_date
    login("Front desk")
    arriving = ReservationFactory(arrival=today)
    in_house = ReservationFactory(arrival=today - dt.timedelta(days=2), status=Status.CHECKED_IN)
    leaving = ReservationFactory(
        arrival=today - dt.timedelta(days=3), departure=today, status=Status.CHECKED_IN
    )
    later = ReservationFactory(arrival=today + dt.timedelta(days=5))
    gone = ReservationFactory(arrival=today - dt.timedelta(days=9), status=Status.CHECKED_OUT)

    def tab(name: str) -> set[int]:
        return set(shown(client.get(LIST, {"tab": name})))

    assert tab("arrivals") == {arriving.pk}
    assert tab("in_house") == {in_house.pk, leaving.pk}
    assert tab("departures") == {leaving.pk}
    assert tab("upcoming") == {later.pk}
    assert tab("all") == {arriving.pk, in_house.pk, leaving.pk, later.pk, gone.pk}
    assert set(shown(client.get(LIST))) == {arriving.pk}  # the desk starts with today's arrivals
    counts = {t["key"]: t["count"] for t in client.get(LIST).context["tabs"]}
    assert counts == {"arrivals": 1, "in_house": 2, "departures": 1, "upcoming": 1, "all": 5}


@pytest.mark.parametrize(
    "typed",
    [
        "yılmaz",
        "Ayşe Yılmaz",
        "R{pk:07d}",
        "r{pk}",
        "+90 532 123 45 67",
        "0532 123 45 67",
        "5321234567",
        "AYSE@example.com",
    ],
)
def test_a_stay_is_found_by_name_number_phone_or_e_mail(client, login, stay, typed) -> None:
    login("Front desk")
    ReservationFactory(
        booker=GuestFactory(
            first_name="Hans", last_name="Müller", phone="+4915112345678", email="hans@example.de"
        )
    )
    response = client.get(LIST, {"q": typed.format(pk=stay.pk)})
    assert shown(response) == [stay.pk]


def test_a_companion_finds_the_stay_too(client, login, stay) -> None:
    login("Front desk")
    ReservationCompanion.objects.create(
        reservation=stay, guest=GuestFactory(first_name="Mehmet", last_name="Kaya")
    )
    assert shown(client.get(LIST, {"q": "Kaya", "tab": "all"})) == [stay.pk]


def test_the_list_shows_a_warning_marker_for_a_problem_booker(client, login, stay) -> None:
    login("Front desk")
    stay.booker.warning_note = "Left without paying the minibar"
    stay.booker.save()
    html = client.get(LIST).content.decode()
    assert "⚠ warning" in html and 'title="Left without paying the minibar"' in html


def test_the_list_is_paginated_by_25(client, login, hotel) -> None:
    login("Front desk")
    for _ in range(27):
        ReservationFactory(arrival=hotel.business_date)
    first, second = client.get(LIST), client.get(LIST, {"page": 2})
    assert (len(shown(first)), len(shown(second))) == (25, 2)
    assert 'rel="next"' in first.content.decode()


def _queries(client, url: str, params: dict[str, str]) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries), len(response.context["page"].object_list)


def test_the_list_makes_the_same_number_of_queries_for_5_and_30_stays(client, login, hotel) -> None:
    login("Front desk")

    def add(count: int) -> None:
        for n in range(count):
            stay = ReservationFactory(arrival=hotel.business_date, room_number=str(100 + n))
            if n % 2:
                ReservationCompanion.objects.create(
                    reservation=stay, guest=GuestFactory(warning_note="noisy")
                )

    add(5)
    client.get(LIST)  # the first request sets up the session
    few, shown_few = _queries(client, LIST, {"tab": "arrivals"})
    add(25)
    many, shown_many = _queries(client, LIST, {"tab": "arrivals"})
    assert (shown_few, shown_many) == (5, 25)
    assert many == few
    searched_few, _ = _queries(client, LIST, {"q": "Example", "tab": "all"})
    assert searched_few == few


# --- One stay ------------------------------------------------------------------------------------


def test_the_page_shows_the_stay_its_guests_and_their_warnings(client, login, stay) -> None:
    login("Front desk")
    companion = GuestFactory(
        first_name="Mehmet", last_name="Kaya", warning_note="Refused to pay the spa bill"
    )
    ReservationCompanion.objects.create(reservation=stay, guest=companion)
    html = client.get(detail(stay)).content.decode()
    assert stay.number in html and "Ayşe Yılmaz" in html and "Mehmet Kaya" in html
    assert '<p class="warning-note">' in html and "Refused to pay the spa bill" in html
    assert "+90 532 123 45 67" in html
    assert "Standard double" in html and "Bed &amp; breakfast" in html


def test_a_companion_the_booker_added_in_the_portal_is_marked_for_staff(
    client, login, stay
) -> None:
    login("Front desk")
    emma = GuestFactory(first_name="Emma", last_name="Brown")
    max_ = GuestFactory(first_name="Max", last_name="Brown")
    ReservationCompanion.objects.create(reservation=stay, guest=emma, added_by=stay.booker)
    ReservationCompanion.objects.create(reservation=stay, guest=max_)  # staff added him
    html = client.get(detail(stay)).content.decode()
    marker = "added by the booker in the portal</span>"
    assert html.count(marker) == 1
    assert html.index("Emma Brown") < html.index(marker) < html.index("Max Brown")


# --- Status actions ------------------------------------------------------------------------------


def test_the_check_in_button_checks_the_guest_in_with_the_room_and_who_did_it(
    client, login, stay
) -> None:
    user = login("Front desk")
    response = client.post(action("check-in", stay), {"room_number": "214"}, follow=True)
    stay.refresh_from_db()
    assert (stay.status, stay.room_number) == (Status.CHECKED_IN, "214")
    assert flashes(response) == [f"{stay.number} checked in, room 214."]
    change = ReservationStatusChange.objects.get(reservation=stay, action="check_in")
    assert change.by == user
    assert "Check out" in response.content.decode()


def test_a_refused_check_in_shows_the_reason_and_changes_nothing(client, login, hotel) -> None:
    login("Front desk")
    future = ReservationFactory(
        arrival=hotel.business_date + dt.timedelta(days=3), room_number="101"
    )
    response = client.post(action("check-in", future), {"room_number": "999"}, follow=True)
    future.refresh_from_db()
    assert (future.status, future.room_number) == (Status.CONFIRMED, "101")
    [message] = flashes(response)
    assert "Move the arrival first to check in early" in message
    assert not ReservationStatusChange.objects.filter(
        reservation=future, action="check_in"
    ).exists()


def test_a_move_the_status_does_not_allow_is_refused_with_the_reason(client, login, stay) -> None:
    login("Front desk")
    response = client.post(action("check-out", stay), follow=True)
    stay.refresh_from_db()
    assert stay.status == Status.CONFIRMED
    assert flashes(response) == [
        f"Cannot check out reservation {stay.number}: it is confirmed, and only a checked in reservation can be."
    ]


def test_check_out_closes_an_in_house_stay(client, login, stay) -> None:
    login("Front desk")
    client.post(action("check-in", stay), {"room_number": "12"})
    client.post(action("check-out", stay))
    stay.refresh_from_db()
    assert stay.status == Status.CHECKED_OUT


def test_a_cancellation_needs_a_reason_next_to_the_field(client, login, stay) -> None:
    login("Front desk")
    response = client.post(action("cancel", stay), {"reason": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_reason_error"' in html and "Say why the reservation is cancelled." in html
    assert "<details open>" in html
    stay.refresh_from_db()
    assert stay.status == Status.CONFIRMED


def test_a_cancellation_with_a_reason_cancels_and_keeps_the_reason(client, login, stay) -> None:
    user = login("Front desk")
    client.post(action("cancel", stay), {"reason": "Flight cancelled"})
    stay.refresh_from_db()
    assert (stay.status, stay.cancel_reason) == (Status.CANCELLED, "Flight cancelled")
    assert ReservationStatusChange.objects.get(reservation=stay, action="cancel").by == user


def test_a_no_show_is_marked_on_the_arrival_day(client, login, stay) -> None:
    login("Front desk")
    client.post(action("no-show", stay), {"note": "never came"})
    stay.refresh_from_db()
    assert stay.status == Status.NO_SHOW


def test_the_notifications_switch_turns_automatic_messages_off_and_on(client, login, stay) -> None:
    user = login("Front desk")
    assert stay.send_notifications
    client.post(action("notifications", stay), {})
    stay.refresh_from_db()
    assert not stay.send_notifications
    client.post(action("notifications", stay), {"send_notifications": "on"})
    stay.refresh_from_db()
    assert stay.send_notifications
    assert (
        ReservationStatusChange.objects.filter(reservation=stay, action="modify", by=user).count()
        == 2
    )


def test_every_action_form_carries_a_csrf_token(login, stay) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    sync_roles()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("desk")
    user.groups.add(Group.objects.get(name="Front desk"))
    strict.force_login(user)
    html = strict.get(detail(stay)).content.decode()
    assert html.count('name="csrfmiddlewaretoken"') >= 4
    assert strict.post(action("check-in", stay), {"room_number": "1"}).status_code == 403
    stay.refresh_from_db()
    assert stay.status == Status.CONFIRMED


def test_the_page_costs_the_same_queries_however_many_guests_and_messages(
    client, login, stay, accounts, top_up
) -> None:
    from channels_out.services import Step, message_send

    top_up(100)
    login("Front desk")

    def add(count: int) -> None:
        for _ in range(count):
            companion = GuestFactory(warning_note="watch the minibar")
            ReservationCompanion.objects.create(reservation=stay, guest=companion)
            message_send(steps=Step(channel="sms", text="Hello"), guest=companion, reservation=stay)

    add(1)
    client.get(detail(stay))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(detail(stay)).status_code == 200
        return len(captured)

    few = queries()
    add(6)
    assert queries() == few
