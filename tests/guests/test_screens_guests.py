"""The guest screens (G1, G5–G7): who may open them, search, their cost in queries, and one
guest's page — stays, consents, greylist, duplicates and the interaction history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_out.models import InboundMessage
from channels_out.services import Step, message_send
from guests.models import ConsentPurpose, ConsentSource, Guest, ReservationCompanion
from guests.services import (
    guest_greylist,
    guest_record_consent,
    reservation_check_in,
)
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("guests:guest-list")


@pytest.fixture
def login(client, django_user_model) -> Callable[..., Any]:
    def as_role(role: str | None) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(
            (role or "nobody").lower().replace(" ", ""), first_name=role or ""
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


@pytest.fixture
def guest(db) -> Guest:
    return GuestFactory(
        first_name="Ayşe", last_name="Yılmaz", phone="+905321234567", email="ayse@example.com"
    )


def page(guest: Guest) -> str:
    return reverse("guests:guest-detail", args=[guest.pk])


def shown(response) -> list[int]:
    return [g.pk for g in response.context["page"].object_list]


# --- Who may open them ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["Front desk", "Manager", "Marketing", "Operator"])
def test_every_role_that_may_view_guests_opens_the_list_and_a_page(
    client, login, guest, role
) -> None:
    login(role)
    assert client.get(LIST).status_code == 200
    assert client.get(page(guest)).status_code == 200
    assert client.get(reverse("guests:guest-history", args=[guest.pk])).status_code == 200


def test_a_user_without_the_permission_is_refused(client, login, guest) -> None:
    login(None)
    for url in (
        LIST,
        page(guest),
        reverse("guests:guest-history", args=[guest.pk]),
        reverse("guests:guest-edit", args=[guest.pk]),
    ):
        assert client.get(url).status_code == 403
    for name in ("guest-consent", "guest-greylist", "guest-send", "guest-edit"):
        assert client.post(reverse(f"guests:{name}", args=[guest.pk])).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, guest) -> None:
    for url in (LIST, page(guest)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_viewers_see_only_what_their_role_allows(client, login, guest) -> None:
    guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.BOOKING,
    )
    login("Operator")
    context = client.get(page(guest)).context
    assert "consent_rows" not in context and "greylist_form" not in context
    assert "send_form" not in context and "duplicates" not in context
    assert not context["can_edit"]
    assert [i.kind for i in context["timeline"]] == []  # operators do not read consent records


# --- The list ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "ayşe",
        "Yılmaz Ayşe",
        "+90 532 123 45 67",
        "0532 123 45 67",
        "1234567",
        "AYSE@EXAMPLE.COM",
        "example.com",
    ],
)
def test_a_guest_is_found_by_name_phone_or_e_mail(client, login, guest, typed) -> None:
    login("Front desk")
    GuestFactory(
        first_name="Hans", last_name="Müller", phone="+4915187654321", email="hans@hotel.de"
    )
    assert shown(client.get(LIST, {"q": typed})) == [guest.pk]


def test_the_list_is_paginated_by_25(client, login) -> None:
    login("Front desk")
    for _ in range(26):
        GuestFactory()
    assert (len(shown(client.get(LIST))), len(shown(client.get(LIST, {"page": 2})))) == (25, 1)


def test_the_list_makes_the_same_number_of_queries_for_5_and_30_guests(client, login) -> None:
    login("Front desk")

    def add(count: int) -> None:
        for n in range(count):
            added = GuestFactory(warning_note="noisy" if n % 3 == 0 else "", vip_level=n % 2)
            if n % 2:
                guest_greylist(guest=added, reason="complaints")

    add(5)
    client.get(LIST)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST)
        return len(captured), len(shown(response))

    few, shown_few = queries()
    add(25)
    many, shown_many = queries()
    assert (shown_few, shown_many) == (5, 25)
    assert many == few


def test_the_list_marks_warnings_and_the_greylist(client, login, guest) -> None:
    login("Front desk")
    guest.warning_note = "Aggressive to staff"
    guest.save()
    guest_greylist(guest=guest, reason="complaints")
    html = client.get(LIST).content.decode()
    assert 'title="Aggressive to staff"' in html and "greylisted" in html


# --- One guest -----------------------------------------------------------------------------------


def test_the_page_shows_the_profile_warning_and_stays_as_booker_and_companion(
    client, login, guest, hotel
) -> None:
    login("Front desk")
    guest.warning_note = "Allergic to staff jokes"
    guest.save()
    own = ReservationFactory(booker=guest)
    other = ReservationFactory(
        booker=GuestFactory(first_name="Mehmet", last_name="Kaya"),
        arrival=hotel.business_date - dt.timedelta(days=30),
    )
    ReservationCompanion.objects.create(reservation=other, guest=guest)
    ReservationFactory()  # someone else's
    response = client.get(page(guest))
    assert [r.pk for r in response.context["stays"].object_list] == [own.pk, other.pk]
    html = response.content.decode()
    assert '<p class="warning-note">' in html and "Allergic to staff jokes" in html
    assert "companion of Mehmet Kaya" in html
    assert "+90 532 123 45 67" in html


def test_the_consent_table_shows_the_current_state_of_each_purpose_and_channel(
    client, login, guest
) -> None:
    user = login("Front desk")
    guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.BOOKING,
        at=timezone.now() - dt.timedelta(days=3),
    )
    guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=False,
        source=ConsentSource.STAFF,
        user=user,
    )
    rows = client.get(page(guest)).context["consent_rows"]
    assert len(rows) == 10  # data processing, 4 × service, 4 × marketing, analytics
    sms_marketing = next(
        r for r in rows if r["purpose"] == "Marketing messages" and r["channel"] == "SMS"
    )
    assert sms_marketing["record"].granted is False
    assert sms_marketing["record"].recorded_by == user
    assert [r.granted for r in sms_marketing["history"]] == [False, True]
    assert all(r["record"] is None for r in rows if r is not sms_marketing)


def test_duplicates_are_offered_for_merging(client, login, guest) -> None:
    login("Front desk")
    twin = GuestFactory(first_name="Ayse", last_name="Yilmaz", phone=guest.phone)
    GuestFactory()
    response = client.get(page(guest))
    assert [d.pk for d in response.context["duplicates"]] == [twin.pk]
    assert reverse("guests:guest-merge", args=[guest.pk, twin.pk]) in response.content.decode()


def test_the_history_puts_messages_consents_and_stay_changes_in_time_order(
    client, login, guest, hotel, accounts, top_up
) -> None:
    top_up(10)
    user = login("Front desk")
    start = timezone.now()
    stay = ReservationFactory(booker=guest, arrival=hotel.business_date)
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        guest_record_consent(
            guest=guest,
            purpose=ConsentPurpose.DATA_PROCESSING,
            granted=True,
            source=ConsentSource.BOOKING,
        )
    with time_machine.travel(start + dt.timedelta(minutes=2), tick=False):
        reservation_check_in(reservation=stay, room_number="12", user=user)
    with time_machine.travel(start + dt.timedelta(minutes=3), tick=False):
        message_send(
            steps=Step(channel="sms", text="Welcome!"), guest=guest, reservation=stay, user=user
        )
    with time_machine.travel(start + dt.timedelta(minutes=4), tick=False):
        InboundMessage.objects.create(
            account=accounts["sms"],
            channel="sms",
            provider_message_id="in-1",
            from_number=guest.phone,
            guest=guest,
            body="Thanks!",
        )
    response = client.get(reverse("guests:guest-history", args=[guest.pk]))
    assert [i.kind for i in response.context["timeline"]] == ["received", "sent", "stay", "consent"]
    html = response.content.decode()
    assert "Thanks!" in html and "Welcome!" in html and "checked in" in html and "given" in html
    assert 'hx-trigger="every 5s"' in html


def test_the_history_shows_more_on_request(client, login, guest) -> None:
    login("Front desk")
    for n in range(25):
        guest_record_consent(
            guest=guest,
            purpose=ConsentPurpose.SERVICE,
            channel="sms",
            granted=bool(n % 2),
            source=ConsentSource.STAFF,
            at=timezone.now() - dt.timedelta(minutes=n),
        )
    history = reverse("guests:guest-history", args=[guest.pk])
    first = client.get(history)
    assert len(first.context["timeline"]) == 20 and first.context["timeline_more"] == 40
    assert len(client.get(history, {"more": "40"}).context["timeline"]) == 25


def test_the_page_costs_the_same_queries_however_long_the_history(
    client, login, guest, hotel, accounts, top_up
) -> None:
    top_up(100)
    user = login("Front desk")

    def add(count: int) -> None:
        for n in range(count):
            stay = ReservationFactory(
                booker=guest, arrival=hotel.business_date - dt.timedelta(days=10 * (n + 1))
            )
            message_send(
                steps=Step(channel="sms", text=f"Hello {n}"),
                guest=guest,
                reservation=stay,
                user=user,
            )
            guest_record_consent(
                guest=guest,
                purpose=ConsentPurpose.MARKETING,
                channel="sms",
                granted=bool(n % 2),
                source=ConsentSource.STAFF,
                user=user,
            )
            guest_greylist(guest=guest, reason=f"reason {n}", user=user)
            GuestFactory(phone=guest.phone)  # a duplicate to offer

    add(1)
    client.get(page(guest))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page(guest)).status_code == 200
        return len(captured)

    few = queries()
    add(5)
    assert queries() == few


def test_a_manager_finds_the_exports_on_the_guest_screens_and_the_front_desk_does_not(
    client, login, guest
) -> None:
    guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel="email",
        granted=True,
        source=ConsentSource.STAFF,
    )
    login("Manager")
    links = {
        "newsletter": (LIST, reverse("exports:newsletter")),
        "consents": (page(guest), reverse("exports:consents", args=[guest.pk])),
    }
    for screen, export in links.values():
        html = client.get(screen).content.decode()
        assert f'href="{export}"' in html
        answer = client.get(export)  # the link leads to the file
        assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    client.logout()
    login("Front desk")
    for screen, export in links.values():
        assert f'href="{export}"' not in client.get(screen).content.decode()
