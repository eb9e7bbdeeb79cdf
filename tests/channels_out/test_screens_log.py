"""The send log screen (S5): who may open it, its filters, its cost in queries, one message's page
and the live statuses of rows still under way."""

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

from campaigns.models import Campaign, CampaignRun, Trigger
from channels_out.backends import TransportError, locmem
from channels_out.models import OutboundMessage, Status
from channels_out.services import Step, message_apply_status, message_send
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

LOG = reverse("channels_out:message-list")


@pytest.fixture
def login(client, django_user_model) -> Callable[..., Any]:
    """Log the test client in as a new user of ``role`` (a staff group) and return the user."""

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


def sms(
    text: str = "Your room is ready.", to: str = "+905321234567", **kwargs: Any
) -> OutboundMessage:
    return message_send(steps=Step(channel="sms", text=text, to=to), **kwargs)


def shown_ids(response) -> list[int]:
    return [m.pk for m in response.context["page"].object_list]


# --- Who may open it -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["Operator", "Front desk", "Manager", "Marketing"])
def test_every_staff_role_may_read_the_log(client, login, role) -> None:
    login(role)
    assert client.get(LOG).status_code == 200


def test_a_signed_in_user_without_the_permission_is_refused(client, login) -> None:
    login(None)
    assert client.get(LOG).status_code == 403
    assert client.get(reverse("channels_out:unknown-queue")).status_code == 403
    assert client.get(reverse("channels_out:message-export")).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page(client) -> None:
    response = client.get(LOG)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Cost in queries -----------------------------------------------------------------------------


def _queries(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.context["page"].object_list)


def test_the_log_makes_the_same_number_of_queries_for_5_and_40_messages(
    client, login, accounts, top_up, deliver_queued
) -> None:
    operator = login("Operator")
    top_up(200)
    campaign = Campaign.objects.create(name="Welcome")

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            run = CampaignRun.objects.create(
                campaign=campaign, trigger=Trigger.OPERATOR, occurrence=f"op:{n}"
            )
            sms(
                to=f"+9053212345{n:02d}",
                guest=GuestFactory(phone=f"+9053212345{n:02d}"),
                user=operator if n % 2 else None,
                origin=run if n % 3 else None,
            )
        deliver_queued()

    add(5, 0)
    client.get(LOG)  # the first request sets up the session
    few, shown_few = _queries(client, LOG + "?channel=sms")
    add(35, 5)
    many, shown_many = _queries(client, LOG + "?channel=sms")
    assert (shown_few, shown_many) == (5, 40)
    assert many == few


def test_the_log_is_paginated_by_50(client, login, accounts, top_up) -> None:
    login("Operator")
    top_up(100)
    for n in range(55):
        sms(to=f"+9053212345{n:02d}")
    first, second = client.get(LOG), client.get(LOG + "?page=2")
    assert (len(shown_ids(first)), len(shown_ids(second))) == (50, 5)
    assert 'rel="next"' in first.content.decode()


# --- Filters -------------------------------------------------------------------------------------


@pytest.fixture
def mixed_log(accounts, top_up, deliver_queued, django_user_model) -> dict[str, Any]:
    """An SMS delivered, an SMS failed, an e-mail, a campaign message, each with its own author."""
    top_up(50)
    ayse = django_user_model.objects.create_user("ayse", first_name="Ayşe", is_staff=True)
    campaign, other = (
        Campaign.objects.create(name="Birthday"),
        Campaign.objects.create(name="Welcome"),
    )
    run = CampaignRun.objects.create(campaign=campaign, trigger=Trigger.DAILY, occurrence="daily:1")
    other_run = CampaignRun.objects.create(
        campaign=other, trigger=Trigger.DAILY, occurrence="daily:1"
    )
    guest = GuestFactory(first_name="Olga", last_name="Petrova", phone="+79123456789")
    delivered = sms("Breakfast is served until ten.", to="+905321234501", user=ayse)
    locmem.script(None, TransportError("unknown destination", code="21211", permanent=True))
    deliver_queued()
    failed = sms("Your spa booking is at 15:00.", to="+905321234502")
    deliver_queued()
    email = message_send(
        steps=Step(channel="email", subject="Invoice", text="Your invoice.", to="olga@example.com"),
        guest=guest,
    )
    birthday = sms("Happy birthday!", to="+79123456789", guest=guest, origin=run)
    welcome = sms("Welcome!", to="+905321234503", origin=other_run)
    deliver_queued()
    message_apply_status(delivered, Status.DELIVERED, source="webhook")
    return {
        "delivered": delivered,
        "failed": failed,
        "email": email,
        "birthday": birthday,
        "welcome": welcome,
        "campaign": campaign,
        "ayse": ayse,
        "guest": guest,
    }


def test_the_log_filters_by_channel(client, login, mixed_log) -> None:
    login("Operator")
    assert shown_ids(client.get(LOG, {"channel": "email"})) == [mixed_log["email"].pk]


def test_the_log_filters_failures(client, login, mixed_log) -> None:
    login("Operator")
    assert shown_ids(client.get(LOG, {"status": "failures"})) == [mixed_log["failed"].pk]
    assert shown_ids(client.get(LOG, {"status": "delivered"})) == [mixed_log["delivered"].pk]


def test_the_log_finds_a_text_in_the_body_subject_or_recipient(client, login, mixed_log) -> None:
    login("Operator")
    assert shown_ids(client.get(LOG, {"q": "spa booking"})) == [mixed_log["failed"].pk]
    assert shown_ids(client.get(LOG, {"q": "invoice"})) == [mixed_log["email"].pk]
    assert shown_ids(client.get(LOG, {"q": "234501"})) == [mixed_log["delivered"].pk]


def test_the_log_filters_by_campaign_through_its_runs(client, login, mixed_log) -> None:
    login("Operator")
    response = client.get(LOG, {"campaign": mixed_log["campaign"].pk})
    assert shown_ids(response) == [mixed_log["birthday"].pk]
    assert "Birthday" in response.content.decode()


def test_the_log_filters_by_staff_member_or_automatic(client, login, mixed_log) -> None:
    login("Operator")
    assert shown_ids(client.get(LOG, {"staff": mixed_log["ayse"].pk})) == [
        mixed_log["delivered"].pk
    ]
    assert mixed_log["delivered"].pk not in shown_ids(client.get(LOG, {"staff": "none"}))


def test_the_log_filters_by_guest_name_or_id(client, login, mixed_log) -> None:
    login("Operator")
    expected = sorted([mixed_log["email"].pk, mixed_log["birthday"].pk], reverse=True)
    assert sorted(shown_ids(client.get(LOG, {"guest": "olga petrova"})), reverse=True) == expected
    assert (
        sorted(shown_ids(client.get(LOG, {"guest": str(mixed_log["guest"].pk)})), reverse=True)
        == expected
    )


def test_the_log_filters_by_date_range(client, login, accounts, top_up) -> None:
    login("Operator")
    top_up(10)
    today = timezone.localdate()
    with time_machine.travel(timezone.now() - dt.timedelta(days=10)):
        old = sms(to="+905321234511")
    new = sms(to="+905321234512")
    since_yesterday = {"date_from": (today - dt.timedelta(days=1)).isoformat()}
    until_last_week = {"date_to": (today - dt.timedelta(days=7)).isoformat()}
    assert shown_ids(client.get(LOG, since_yesterday)) == [new.pk]
    assert shown_ids(client.get(LOG, until_last_week)) == [old.pk]


def test_an_end_before_the_start_is_shown_next_to_the_end_date(client, login) -> None:
    login("Operator")
    response = client.get(LOG, {"date_from": "2026-05-10", "date_to": "2026-05-01"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_date_to_error"' in html and "before the start date" in html
    assert 'aria-invalid="true"' in html


# --- One message ---------------------------------------------------------------------------------


def test_a_message_page_shows_events_cost_provider_answer_and_the_fallback_chain(
    client, login, accounts, top_up, deliver_queued
) -> None:
    login("Operator")
    top_up(10)
    locmem.script(TransportError("not a Viber user", code="NOVIBER", permanent=True))
    viber = message_send(steps=Step(channel="viber", text="Welcome!", to="+905321234568"))
    deliver_queued()  # Viber: not a Viber user → the SMS fallback is queued
    deliver_queued()  # the SMS goes
    fallback = OutboundMessage.objects.get(fallback_for=viber)

    response = client.get(reverse("channels_out:message-detail", args=[fallback.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"fallback for #{viber.pk}" in html
    assert f"{fallback.segments} · {fallback.encoding}" in html
    assert fallback.provider_message_id and fallback.provider_message_id in html
    viber_page = client.get(
        reverse("channels_out:message-detail", args=[viber.pk])
    ).content.decode()
    assert "NOVIBER" in viber_page and "not a Viber user" in viber_page
    assert reverse("channels_out:message-detail", args=[fallback.pk]) in viber_page


def test_a_missing_message_is_404(client, login) -> None:
    login("Operator")
    assert client.get(reverse("channels_out:message-detail", args=[999])).status_code == 404


# --- Live statuses -------------------------------------------------------------------------------


def test_rows_under_way_poll_for_their_status_and_stop_once_final(
    client, login, accounts, top_up, deliver_queued
) -> None:
    login("Operator")
    top_up(10)
    message = sms()
    html = client.get(LOG).content.decode()
    assert f'hx-get="{reverse("channels_out:message-rows")}?ids={message.pk}"' in html
    assert 'hx-trigger="every 5s"' in html

    deliver_queued()
    message_apply_status(message, Status.DELIVERED, source="webhook")
    rows = client.get(
        reverse("channels_out:message-rows"), {"ids": str(message.pk)}
    ).content.decode()
    assert rows.startswith("<tbody") and "Delivered" in rows
    assert "hx-trigger" not in rows


def test_a_page_signed_out_while_polling_reloads_instead_of_showing_the_login_form_in_the_table(
    client,
) -> None:
    response = client.get(
        reverse("channels_out:message-rows"), {"ids": "1"}, headers={"HX-Request": "true"}
    )
    assert (response.status_code, response["HX-Refresh"]) == (204, "true")


def test_the_export_link_carries_the_filters_but_not_the_page(client, login) -> None:
    login("Operator")
    html = client.get(LOG, {"status": "failures", "channel": "sms", "page": "2"}).content.decode()
    assert (
        f'href="{reverse("channels_out:message-export")}?status=failures&amp;channel=sms"' in html
    )
