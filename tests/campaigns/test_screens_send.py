"""Operator sends from the screens: audience, confirmation with cost and balance, refusal, test send (C9–C11)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import CampaignRun, Source, Trigger
from channels_out.models import OutboundMessage
from crm_messaging.ui.once import new_nonce
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def newsletter(make_campaign):
    return make_campaign(
        name="Spring offer",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": "Spring offer for @NAME", "ru": "Весеннее предложение для @NAME"},
    )


def test_send_to_all_asks_first_with_the_cost_and_the_balance(
    client, marketing, newsletter, top_up
) -> None:
    top_up(50)
    GuestFactory.create_batch(3, language="en")
    GuestFactory(language="ru")
    page = client.get(reverse("campaigns:campaign-send", args=[newsletter.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "to everyone in its audience" in html
    assert (
        'id="total-credits">4<' in html and "<td>ru</td><td>1</td><td>1</td><td>UCS-2</td>" in html
    )
    assert (
        "<strong>50</strong> credits" in html
        and "Yes, send now" in html
        and "disabled" not in html.split("Yes, send now")[0][-120:]
    )
    assert CampaignRun.objects.count() == 0


def test_send_to_all_is_refused_with_cost_and_balance_when_short(
    client, marketing, newsletter, top_up
) -> None:
    top_up(Decimal("0.4"))
    GuestFactory.create_batch(3)
    html = client.get(reverse("campaigns:campaign-send", args=[newsletter.pk])).content.decode()
    assert "Not enough credits: cost 3 credits, balance 0.40." in html
    assert 'disabled aria-disabled="true"' in html
    # Posted anyway (a stale page): the service refuses and keeps the attempt as a run.
    answer = client.post(
        reverse("campaigns:campaign-send", args=[newsletter.pk]),
        {"nonce": new_nonce()},
        follow=True,
    )
    html = answer.content.decode()
    assert "Not sent: cost 3 credits, balance 0.40." in html
    run = CampaignRun.objects.get()
    assert (run.state, run.requested_by) == (CampaignRun.State.REFUSED, marketing)
    assert "Refused" in html and "cost 3 credits, balance 0.40" in html  # the runs page shows it
    assert not OutboundMessage.objects.exists()


def test_send_to_selected_reaches_only_the_chosen(
    client, marketing, newsletter, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(50)
    chosen, other, also = GuestFactory.create_batch(3)
    page = client.get(
        reverse("campaigns:campaign-send", args=[newsletter.pk]), {"record": [chosen.pk, also.pk]}
    )
    assert "to 2 selected recipients" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("campaigns:campaign-send", args=[newsletter.pk]),
            {"record": [str(chosen.pk), str(also.pk)], "nonce": new_nonce()},
        )
    assert answer["Location"] == reverse("campaigns:campaign-runs", args=[newsletter.pk])
    run = CampaignRun.objects.get()
    assert (run.state, run.requested_by, sorted(run.selected_ids)) in (
        (CampaignRun.State.RUNNING, marketing, sorted([chosen.pk, also.pk])),
        (CampaignRun.State.DONE, marketing, sorted([chosen.pk, also.pk])),
    )
    assert set(OutboundMessage.objects.values_list("guest", flat=True)) == {chosen.pk, also.pk}


@pytest.mark.parametrize(
    "picked",
    [["abc"], ["-1"], ["\u00b2"], ["\u0663"], ["9" * 30], [""], ["12", "x"]],
    ids=["word", "negative", "superscript", "arabic-indic", "huge", "empty", "one-bad"],
)
def test_a_selection_that_cannot_be_read_sends_nothing_and_never_widens_to_everyone(
    client, marketing, newsletter, top_up, picked, django_capture_on_commit_callbacks
) -> None:
    top_up(50)
    GuestFactory.create_batch(3)
    url = reverse("campaigns:campaign-send", args=[newsletter.pk])
    page = client.get(url, {"record": picked})
    html = page.content.decode()
    assert page.status_code == 400
    assert "could not be read" in html and "everyone in its audience" not in html
    assert "Yes, send now" not in html
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url, {"record": picked, "nonce": new_nonce()})
    assert answer.status_code == 400 and "could not be read" in answer.content.decode()
    assert CampaignRun.objects.count() == 0 and OutboundMessage.objects.count() == 0


def test_an_automatic_campaign_cannot_be_sent_by_hand(client, marketing, make_campaign) -> None:
    campaign = make_campaign(trigger=Trigger.CHECK_IN)
    html = client.get(reverse("campaigns:campaign-send", args=[campaign.pk])).content.decode()
    assert "this one sends itself" in html and "Yes, send now" not in html


def test_the_audience_page_lists_recipients_and_shows_one_message_in_his_language(
    client, marketing, newsletter
) -> None:
    GuestFactory(first_name="Oliver", language="en", phone="+447400123456")
    anna = GuestFactory(first_name="Анна", language="ru")
    html = client.get(reverse("campaigns:campaign-audience", args=[newsletter.pk])).content.decode()
    assert "Oliver" in html and "+447400123456" in html and "Send to selected…" in html
    fragment = client.get(
        reverse("campaigns:recipient-message", args=[newsletter.pk, anna.pk])
    ).content.decode()
    assert "Весеннее предложение для Анна" in fragment


def test_the_audience_page_is_paginated_with_a_fixed_number_of_queries(
    client, marketing, newsletter
) -> None:
    url = reverse("campaigns:campaign-audience", args=[newsletter.pk])
    GuestFactory.create_batch(3)
    client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    GuestFactory.create_batch(30)
    assert queries() == few
    assert "Page 2 of 2" in client.get(url, {"page": 2}).content.decode()


def test_a_test_send_goes_to_the_staff_number_and_says_so(
    client, marketing, newsletter, top_up
) -> None:
    top_up(5)
    answer = client.post(
        reverse("campaigns:campaign-test-send", args=[newsletter.pk]),
        {"test-to": "+905321234567", "test-channel": "sms", "test-language": "ru"},
        HTTP_HX_REQUEST="true",
    )
    html = answer.content.decode()
    message = OutboundMessage.objects.get()
    assert (message.to, message.sent_by, message.language) == ("+905321234567", marketing, "ru")
    assert "Test message to +905321234567" in html
    assert message.body.startswith("Весеннее предложение")


def test_a_test_send_to_a_bad_number_is_refused_with_the_reason(
    client, marketing, newsletter, top_up
) -> None:
    top_up(5)
    html = client.post(
        reverse("campaigns:campaign-test-send", args=[newsletter.pk]),
        {"test-to": "12", "test-channel": "sms", "test-language": "en"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "The test to 12 was not sent:" in html and "not a valid phone number" in html
