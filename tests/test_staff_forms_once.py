"""A staff form does its work once (crm_messaging/ui/once.py): two clicks at the same moment, or
the same form sent again later (a refresh, a second tab), make one run, one reservation, one
credit order, one copy, one API key — and land on the first one's page with a short message.

The simultaneous cases post from two threads, each on its own PostgreSQL connection, started
together at a barrier.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, CampaignRun, CampaignStep, MessageVariant, Source, Trigger
from channels_out.models import CreditOrder, MessagingPolicy, OutboundMessage
from crm_messaging.ui.models import Submission
from crm_messaging.ui.once import new_nonce
from guests.models import BoardType, Guest, Reservation, RoomType
from interfaces.api.models import ApiKey
from interfaces.staff.roles import sync_roles
from tests.campaigns.test_screens_support import editor_data
from tests.factories import GuestFactory

ALREADY = "This form had already been sent; it was not done again."
EXPIRED = "This form has expired; reload the page and send again."

concurrent = pytest.mark.django_db(transaction=True)


def signed_in(django_user_model: Any, role: str, **fields: Any) -> Client:
    sync_roles()
    user = django_user_model.objects.create_user(role.lower().replace(" ", ""), **fields)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def at_once(client: Client, url: str, data: dict[str, Any]) -> list[HttpResponse]:
    """POST the same form twice at the same moment, as a double click does."""
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]
    failures: list[BaseException] = []

    def post(index: int) -> None:
        try:
            barrier.wait()
            answers[index] = client.post(url, data)
        except BaseException as exc:  # reported in the test's own thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return answers


def followed(client: Client, answer: HttpResponse) -> str:
    return client.get(answer["Location"]).content.decode()


def flashed(answer: HttpResponse) -> list[str]:
    """The messages an answer added (two at once share one session: read them per answer)."""
    return [str(message) for message in get_messages(answer.wsgi_request)]


# --- Marketing: "Yes, send now" ----------------------------------------------------------------


@pytest.fixture
def newsletter(accounts, top_up) -> Campaign:
    policy = MessagingPolicy.load()
    policy.frequency_cap_count = 50  # the default cap of 2 would hide a second run's messages
    policy.save()
    top_up(50)
    campaign = Campaign.objects.create(
        name="Spring offer", trigger=Trigger.OPERATOR, source=Source.GUESTS, is_active=True
    )
    CampaignStep.objects.create(campaign=campaign, position=0, channel="sms")
    MessageVariant.objects.create(campaign=campaign, language="en", text="Spring offer, @NAME")
    GuestFactory.create_batch(3)
    return campaign


@concurrent
def test_two_simultaneous_send_now_clicks_make_one_run(django_user_model, newsletter) -> None:
    marketing = signed_in(django_user_model, "Marketing")
    url = reverse("campaigns:campaign-send", args=[newsletter.pk])
    runs = reverse("campaigns:campaign-runs", args=[newsletter.pk])

    answers = at_once(marketing, url, {"nonce": new_nonce()})

    assert [a.status_code for a in answers] == [302, 302]
    assert {a["Location"] for a in answers} == {runs}
    assert CampaignRun.objects.count() == 1
    assert OutboundMessage.objects.count() == 3
    assert sorted(ALREADY in flashed(a) for a in answers) == [False, True]


@pytest.mark.django_db
def test_sending_the_confirmation_again_later_sends_nothing_more(
    client, django_user_model, newsletter
) -> None:
    marketing = signed_in(django_user_model, "Marketing")
    url = reverse("campaigns:campaign-send", args=[newsletter.pk])
    page = marketing.get(url).content.decode()
    nonce = page.split('name="nonce" value="')[1][:32]

    marketing.post(url, {"nonce": nonce})
    again = marketing.post(url, {"nonce": nonce}, follow=True)

    assert CampaignRun.objects.count() == 1
    assert ALREADY in again.content.decode()
    assert marketing.get(url).content.decode().split('name="nonce" value="')[1][:32] != nonce


@pytest.mark.django_db
def test_a_send_without_the_forms_key_is_refused_and_sends_nothing(
    django_user_model, newsletter
) -> None:
    marketing = signed_in(django_user_model, "Marketing")
    url = reverse("campaigns:campaign-send", args=[newsletter.pk])

    answer = marketing.post(url, {"nonce": "campaign:1"}, follow=True)

    assert EXPIRED in answer.content.decode()
    assert not CampaignRun.objects.exists()
    assert not OutboundMessage.objects.exists()


# --- Marketing: Duplicate ------------------------------------------------------------------------


@concurrent
def test_two_simultaneous_duplicate_clicks_make_one_copy(django_user_model, accounts) -> None:
    original = Campaign.objects.create(name="Welcome", trigger=Trigger.OPERATOR)
    marketing = signed_in(django_user_model, "Marketing")

    answers = at_once(
        marketing,
        reverse("campaigns:campaign-duplicate", args=[original.pk]),
        {"nonce": new_nonce()},
    )

    copy = Campaign.objects.exclude(pk=original.pk).get()
    edit = reverse("campaigns:campaign-edit", args=[copy.pk])
    assert [a["Location"] for a in answers] == [edit, edit]
    assert sorted(ALREADY in flashed(a) for a in answers) == [False, True]


@pytest.mark.django_db
def test_a_key_claimed_by_one_form_does_not_work_for_another(django_user_model, accounts) -> None:
    first, second = (
        Campaign.objects.create(name=name, trigger=Trigger.OPERATOR) for name in ("A", "B")
    )
    marketing = signed_in(django_user_model, "Marketing")
    nonce = new_nonce()
    marketing.post(reverse("campaigns:campaign-duplicate", args=[first.pk]), {"nonce": nonce})

    answer = marketing.post(
        reverse("campaigns:campaign-duplicate", args=[second.pk]), {"nonce": nonce}, follow=True
    )

    assert EXPIRED in answer.content.decode()
    assert not Campaign.objects.filter(name="B (copy)").exists()
    assert Campaign.objects.filter(name="A (copy)").count() == 1


# --- Marketing: a new campaign ------------------------------------------------------------------


@concurrent
def test_two_simultaneous_saves_of_a_new_campaign_and_a_resubmit_make_one_campaign(
    django_user_model, accounts
) -> None:
    marketing = signed_in(django_user_model, "Marketing")
    data = editor_data(name="Autumn offer")
    url = reverse("campaigns:campaign-create")

    answers = at_once(marketing, url, data)
    later = marketing.post(url, data)

    campaign = Campaign.objects.get(name="Autumn offer")
    edit = reverse("campaigns:campaign-edit", args=[campaign.pk])
    assert [a["Location"] for a in [*answers, later]] == [edit] * 3
    assert sorted(ALREADY in flashed(a) for a in answers) == [False, True]


# --- Front desk: a new reservation ---------------------------------------------------------------


def booking(hotel: Any, nonce: str) -> dict[str, Any]:
    return {
        "first_name": "Qa",
        "last_name": "Dup2",
        "phone": "0532 765 43 21",
        "email": "",
        "language": "en",
        "arrival": hotel.business_date.isoformat(),
        "departure": (hotel.business_date + dt.timedelta(days=2)).isoformat(),
        "room_type": RoomType.objects.get(code="STD").pk,
        "board_type": BoardType.objects.get(code="BB").pk,
        "room_number": "",
        "adults": "2",
        "children": "0",
        "nightly_rate": "100.00",
        "notes": "",
        "nonce": nonce,
    }


@concurrent
def test_two_simultaneous_posts_and_a_resubmit_make_one_reservation_and_one_guest(
    django_user_model, reference_data, hotel
) -> None:
    desk = signed_in(django_user_model, "Front desk")
    data = booking(hotel, new_nonce())
    url = reverse("guests:reservation-create")

    answers = at_once(desk, url, data)
    later = desk.post(url, data)

    reservation = Reservation.objects.get()
    assert Guest.objects.filter(last_name="Dup2").count() == 1
    detail = reverse("guests:reservation-detail", args=[reservation.pk])
    assert [a["Location"] for a in [*answers, later]] == [detail] * 3
    assert sorted(ALREADY in flashed(a) for a in answers) == [False, True]
    assert ALREADY in followed(desk, later)


@pytest.mark.django_db
def test_a_refused_booking_leaves_the_form_free_to_be_sent_again(
    django_user_model, reference_data, hotel, monkeypatch
) -> None:
    from interfaces.frontdesk.views import booking as view

    def refuse(**kwargs: Any) -> Reservation:
        raise ValidationError({"room_type": "This room type is closed."})

    desk = signed_in(django_user_model, "Front desk")
    data = booking(hotel, new_nonce())
    url = reverse("guests:reservation-create")
    monkeypatch.setattr(view, "reservation_create", refuse)

    refused = desk.post(url, data)
    monkeypatch.undo()
    corrected = desk.post(url, data)

    assert refused.status_code == 200
    assert corrected.status_code == 302
    assert Reservation.objects.count() == 1
    assert Submission.objects.get().form == "reservation-create"


# --- Manager: buying credits ---------------------------------------------------------------------


@concurrent
def test_two_simultaneous_credit_orders_make_one_invoice_and_one_mail(django_user_model) -> None:
    manager = signed_in(django_user_model, "Manager", email="boss@example.com")

    answers = at_once(
        manager,
        reverse("channels_out:credit-order-create"),
        {"credits": "50", "nonce": new_nonce()},
    )

    assert CreditOrder.objects.count() == 1
    assert len(mail.outbox) == 1
    orders = reverse("channels_out:credits") + "#orders"
    assert [a["Location"] for a in answers] == [orders, orders]
    assert sorted(ALREADY in flashed(a) for a in answers) == [False, True]


@pytest.mark.django_db
def test_a_credit_order_without_the_forms_key_is_refused(django_user_model) -> None:
    manager = signed_in(django_user_model, "Manager")

    answer = manager.post(reverse("channels_out:credit-order-create"), {"credits": "50"})

    assert answer.status_code == 200
    assert EXPIRED in answer.content.decode()
    assert not CreditOrder.objects.exists()


# --- Manager: API keys ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_refreshing_the_new_key_page_makes_no_second_key_and_never_shows_it_again(
    django_user_model,
) -> None:
    manager = signed_in(django_user_model, "Manager")
    form = {"name": "Mews", "scopes": ["guests:write"], "nonce": new_nonce()}

    made = manager.post("/settings/api-keys/", form)
    refreshed = manager.post("/settings/api-keys/", form, follow=True)

    raw = made.context["raw"]
    assert ApiKey.objects.count() == 1
    assert raw in made.content.decode()
    assert refreshed.redirect_chain == [("/settings/api-keys/", 302)]
    page = refreshed.content.decode()
    assert ALREADY in page and raw not in page


@concurrent
def test_two_simultaneous_new_key_posts_make_one_key(django_user_model) -> None:
    manager = signed_in(django_user_model, "Manager")
    form = {"name": "Mews", "scopes": ["guests:write"], "nonce": new_nonce()}

    answers = sorted(at_once(manager, "/settings/api-keys/", form), key=lambda a: a.status_code)

    assert ApiKey.objects.count() == 1
    assert [a.status_code for a in answers] == [200, 302]
    assert answers[0].context["raw"] not in followed(manager, answers[1])
