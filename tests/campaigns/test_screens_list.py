"""The campaign list: active and passive tabs, search, last run with counts, row actions as POSTs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign, CampaignRun, Source, Timing, Trigger
from crm_messaging.ui.once import new_nonce

from .test_screens_support import run_with_messages

pytestmark = pytest.mark.django_db

LIST = reverse("campaigns:campaign-list")


def test_a_campaign_shows_its_trigger_timing_channels_and_last_run_with_counts(
    client, marketing, make_campaign
) -> None:
    survey = make_campaign(
        name="Post-stay survey",
        trigger=Trigger.DAILY,
        timing=Timing.DAYS_AFTER_DEPARTURE,
        offset=1,
        steps=["whatsapp", "sms"],
    )
    run_with_messages(survey, n=3)
    page = client.get(LIST)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Post-stay survey" in html
    assert "Daily, after the night audit" in html and "1 day after departure" in html
    assert "WhatsApp → SMS" in html
    assert "3 in the audience" in html and "skipped 3" in html  # no credits: the log says so


def test_active_and_passive_tabs_and_search(client, marketing, make_campaign) -> None:
    make_campaign(name="Birthday wishes", source=Source.GUESTS)
    make_campaign(name="Old newsletter", is_active=False)
    make_campaign(name="Welcome", description="sent at check-in")
    active = client.get(LIST).content.decode()
    assert "Birthday wishes" in active and "Welcome" in active and "Old newsletter" not in active
    passive = client.get(LIST, {"state": "passive"}).content.decode()
    assert "Old newsletter" in passive and "Welcome" not in passive
    found = client.get(LIST, {"q": "check-in"}).content.decode()
    assert "Welcome" in found and "Birthday wishes" not in found


def test_a_daily_campaign_with_a_send_time_says_when_it_goes(
    client, marketing, make_campaign
) -> None:
    make_campaign(
        name="Check-out eve",
        trigger=Trigger.DAILY,
        timing=Timing.DAYS_BEFORE_DEPARTURE,
        offset=1,
        send_time=dt.time(18),
    )
    html = client.get(LIST).content.decode()
    assert "1 day before departure" in html and "sent at 18:00 hotel time" in html
    client.cookies["django_language"] = "tr"
    assert "gönderim saati 18:00 (otel saati)" in client.get(LIST).content.decode()


def test_a_nul_character_in_the_search_is_dropped_not_a_500(
    client, marketing, make_campaign
) -> None:
    make_campaign(name="Welcome")
    make_campaign(name="Birthday wishes")

    page = client.get(LIST, {"q": "Wel\x00come"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Welcome" in html and "Birthday wishes" not in html


def test_the_list_is_paginated(client, marketing, make_campaign) -> None:
    for n in range(23):
        make_campaign(name=f"Campaign {n:02d}", steps=[], texts={})
    first = client.get(LIST).content.decode()
    second = client.get(LIST, {"page": 2}).content.decode()
    assert "Campaign 19" in first and "Campaign 20" not in first
    assert "Campaign 22" in second and "Page 2 of 2" in second


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST).status_code == 200
    return len(captured)


def test_the_list_takes_as_many_queries_for_20_campaigns_as_for_3(
    client, marketing, make_campaign
) -> None:
    def campaigns(count: int) -> None:
        for _ in range(count):
            campaign = make_campaign(
                name=f"Campaign {Campaign.objects.count()}",
                steps=["viber", "sms"],
                texts={"en": "Hi", "de": "Hallo"},
            )
            run_with_messages(campaign, n=2)
            run_with_messages(campaign, n=1, state=CampaignRun.State.RUNNING)

    campaigns(3)
    client.get(LIST)  # warm the per-process caches (content types, the session)
    few = _queries(client)
    campaigns(17)
    many = _queries(client)
    assert Campaign.objects.count() == 20
    assert few == many


def test_deactivate_and_activate_are_posts_logged_with_the_user(
    client, marketing, make_campaign
) -> None:
    campaign = make_campaign(name="Welcome")
    url = reverse("campaigns:campaign-set-active", args=[campaign.pk])
    assert client.get(url).status_code == 405
    answer = client.post(url, {"active": "0", "next": f"{LIST}?state=active"})
    assert answer.status_code == 302 and answer["Location"] == f"{LIST}?state=active"
    campaign.refresh_from_db()
    assert not campaign.is_active
    client.post(url, {"active": "1"})
    campaign.refresh_from_db()
    assert campaign.is_active
    log = LogEntry.objects.filter(object_id=str(campaign.pk)).order_by("pk")
    assert [(entry.user, entry.change_message) for entry in log] == [
        (marketing, "Made passive."),
        (marketing, "Activated."),
    ]


def test_an_outside_next_address_is_ignored(client, marketing, make_campaign) -> None:
    campaign = make_campaign()
    answer = client.post(
        reverse("campaigns:campaign-set-active", args=[campaign.pk]),
        {"active": "0", "next": "https://evil.example/"},
    )
    assert answer["Location"] == LIST


def test_duplicate_makes_a_passive_copy_and_opens_it(client, marketing, make_campaign) -> None:
    original = make_campaign(
        name="Welcome", steps=["email", "sms"], texts={"en": "Hi", "tr": "Merhaba"}
    )
    answer = client.post(
        reverse("campaigns:campaign-duplicate", args=[original.pk]), {"nonce": new_nonce()}
    )
    copy = Campaign.objects.exclude(pk=original.pk).get()
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "campaigns:campaign-edit", args=[copy.pk]
    )
    assert (copy.name, copy.is_active, copy.created_by) == ("Welcome (copy)", False, marketing)
    assert [s.channel for s in copy.steps.all()] == ["email", "sms"]
    assert sorted(copy.variants.values_list("language", flat=True)) == ["en", "tr"]
