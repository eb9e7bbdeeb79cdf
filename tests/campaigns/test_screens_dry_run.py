"""The dry run screen (C9): who would have received a campaign on a past business date or
hour, with each message rendered — and nothing sent, queued or charged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import CampaignRun, Timing, Trigger, TriggerEvent
from channels_out.backends import locmem
from channels_out.models import LedgerEntry, OutboundMessage
from guests.models import Reservation
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db


def _dry_run(client, campaign, **params):
    return client.get(reverse("campaigns:campaign-dry-run", args=[campaign.pk]), params)


def _nothing_was_written() -> None:
    assert not OutboundMessage.objects.exists()
    assert not CampaignRun.objects.exists()
    assert not TriggerEvent.objects.exists()
    assert LedgerEntry.objects.count() == 1  # the top-up only
    assert locmem.outbox == []


def test_a_past_business_date_shows_who_would_have_received_what_and_sends_nothing(
    client, marketing, make_campaign, top_up, hotel
) -> None:
    top_up(50)
    campaign = make_campaign(
        trigger=Trigger.DAILY,
        timing=Timing.DAYS_BEFORE_ARRIVAL,
        offset=3,
        texts={"en": "See you on @ARRIVAL, @NAME", "tr": "@ARRIVAL tarihinde görüşmek üzere @NAME"},
    )
    day = hotel.business_date - dt.timedelta(days=5)
    emma = ReservationFactory(
        booker=GuestFactory(first_name="Emma", language="en", phone="+447911123456"),
        arrival=day + dt.timedelta(days=3),
    )
    ReservationFactory(
        booker=GuestFactory(first_name="Ayşe", language="tr", phone="+905321234567"),
        arrival=day + dt.timedelta(days=3),
    )
    ReservationFactory(booker=GuestFactory(first_name="Later"), arrival=day + dt.timedelta(days=4))
    page = _dry_run(client, campaign, date=day.isoformat())
    html = page.content.decode()
    assert page.status_code == 200
    assert f"business date {day:%d.%m.%Y}" in html
    assert "2 recipients would have got it" in html
    assert f"See you on {emma.arrival:%-d %b %Y}, Emma" in html
    assert "görüşmek üzere Ayşe" in html
    assert "Later" not in html
    _nothing_was_written()


def test_a_date_still_ahead_is_refused_and_nothing_is_evaluated(
    client, marketing, make_campaign, hotel
) -> None:
    campaign = make_campaign(trigger=Trigger.DAILY, timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3)
    page = _dry_run(client, campaign, date=(hotel.business_date + dt.timedelta(days=1)).isoformat())
    assert "Pick a past date" in page.content.decode()
    assert "would have got it" not in page.content.decode()


def test_an_hourly_campaign_is_looked_at_for_one_hour(
    client, marketing, make_campaign, top_up, hotel
) -> None:
    top_up(50)
    campaign = make_campaign(
        trigger=Trigger.HOURLY,
        timing=Timing.HOURS_BEFORE_ARRIVAL,
        offset=3,
        texts={"en": "Your room is nearly ready, @NAME"},
    )
    day = timezone.localdate() - dt.timedelta(days=2)
    ReservationFactory(booker=GuestFactory(first_name="Hana", language="en"), arrival=day)
    # Check-in is at 14:00: "3 hours before" is the 11:00 hour.
    html = _dry_run(client, campaign, date=day.isoformat(), hour="11").content.decode()
    assert "Your room is nearly ready, Hana" in html and "from 11:00" in html
    html = _dry_run(client, campaign, date=day.isoformat(), hour="10").content.decode()
    assert "Hana" not in html and "the campaign would have reached no one then" in html
    assert not OutboundMessage.objects.exists()


def test_an_event_campaign_is_shown_against_that_days_events(
    client, marketing, make_campaign, top_up, hotel
) -> None:
    top_up(50)
    campaign = make_campaign(trigger=Trigger.CHECK_IN, texts={"en": "Welcome, @NAME"})
    day = hotel.business_date - dt.timedelta(days=1)
    ReservationFactory(
        booker=GuestFactory(first_name="Olga"), arrival=day, status=Reservation.Status.CHECKED_IN
    )
    ReservationFactory(booker=GuestFactory(first_name="Piet"), arrival=day - dt.timedelta(days=1))
    html = _dry_run(client, campaign, date=day.isoformat()).content.decode()
    assert "Welcome, Olga" in html and "Piet" not in html
    _nothing_was_written()


def test_the_editor_links_to_the_dry_run_with_yesterday_picked(
    client, marketing, make_campaign, hotel
) -> None:
    campaign = make_campaign(trigger=Trigger.DAILY, timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3)
    editor = client.get(reverse("campaigns:campaign-edit", args=[campaign.pk])).content.decode()
    assert reverse("campaigns:campaign-dry-run", args=[campaign.pk]) in editor
    html = _dry_run(client, campaign).content.decode()
    yesterday = hotel.business_date - dt.timedelta(days=1)
    assert f'value="{yesterday.isoformat()}"' in html
    assert f'max="{hotel.business_date.isoformat()}"' in html
    assert "would have got it" not in html  # nothing is looked at before a date is asked for
