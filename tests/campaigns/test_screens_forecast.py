"""The editor's live panels: audience count, cost and preview follow the form and never save it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from campaigns.models import Campaign, CampaignStep, MessageVariant, Source, Trigger
from guests.models import Hotel, Reservation
from tests.factories import GuestFactory, ReservationFactory

from .test_screens_support import editor_data

pytestmark = pytest.mark.django_db


def _audience(html: str) -> int:
    match = re.search(r'id="audience-count" data-count="(\d+)"', html)
    assert match, html
    return int(match.group(1))


def _cost(html: str) -> Decimal:
    match = re.search(r'id="cost-credits"[^>]*>([\d.,]+)<', html)
    assert match, html
    return Decimal(match.group(1))


def _snapshot(campaign: Campaign) -> dict:
    campaign.refresh_from_db()
    return {
        "rows": (
            Campaign.objects.count(),
            CampaignStep.objects.count(),
            MessageVariant.objects.count(),
        ),
        "fields": {**model_to_dict(campaign), "updated_at": campaign.updated_at},
        "steps": list(CampaignStep.objects.values_list("pk", "position", "channel", "account")),
        "variants": list(
            MessageVariant.objects.values_list("pk", "language", "text", "updated_at")
        ),
    }


def test_the_forecast_counts_and_prices_the_form_as_it_stands_and_changes_nothing(
    client, marketing, make_campaign, top_up
) -> None:
    top_up(100)
    campaign = make_campaign(
        name="Newsletter", trigger=Trigger.OPERATOR, source=Source.GUESTS, texts={"en": "Hi @NAME"}
    )
    for nationality in ("TR", "TR", "DE", "GB"):
        GuestFactory(nationality=nationality)
    before = _snapshot(campaign)
    url = reverse("campaigns:campaign-forecast", args=[campaign.pk])

    html = client.post(
        url, editor_data(name="Newsletter", purpose="service", texts={"en": "Hi @NAME"})
    ).content.decode()
    assert (_audience(html), _cost(html)) == (4, Decimal(4))
    assert "balance" in html.lower() and "100" in html

    # Edited but unsaved: Türkiye excluded, renamed, another plan and a second language.
    edited = editor_data(
        name="Renamed",
        purpose="service",
        excluded_nationalities=["TR"],
        steps=["email", "sms"],
        texts={"en": "Hello again @NAME", "de": "Hallo @NAME"},
        subjects={"en": "Hi", "de": "Hallo"},
    )
    html = client.post(url, edited).content.decode()
    assert _audience(html) == 2
    assert _snapshot(campaign) == before


def test_a_forecast_of_a_new_campaign_leaves_no_campaign_behind(
    client, marketing, accounts
) -> None:
    GuestFactory.create_batch(3)
    html = client.post(
        reverse("campaigns:campaign-forecast"), editor_data(purpose="service")
    ).content.decode()
    assert _audience(html) == 3
    assert (
        Campaign.objects.count(),
        CampaignStep.objects.count(),
        MessageVariant.objects.count(),
    ) == (0, 0, 0)


def test_a_forecast_of_an_invalid_form_says_what_to_correct(client, marketing) -> None:
    html = client.post(
        reverse("campaigns:campaign-forecast"), editor_data(source="guests", trigger="hourly")
    ).content.decode()
    assert "Cannot count yet" in html and "hourly campaign needs reservations" in html
    assert Campaign.objects.count() == 0


def test_the_cost_shows_the_refusal_when_the_balance_is_short(
    client, marketing, make_campaign, top_up
) -> None:
    top_up(Decimal("0.5"))
    campaign = make_campaign(source=Source.GUESTS)
    GuestFactory.create_batch(2)
    html = client.post(
        reverse("campaigns:campaign-forecast", args=[campaign.pk]), editor_data(purpose="service")
    ).content.decode()
    assert "Not enough credits: cost 2 credits, balance 0.50." in html


def _departing(nationality: str, **guest: object) -> Reservation:
    today = Hotel.load().business_date
    return ReservationFactory(
        booker=GuestFactory(nationality=nationality, **guest),
        arrival=today - dt.timedelta(days=3),
        departure=today,
        status=Reservation.Status.CHECKED_IN,
    )


def test_a_check_out_campaign_is_counted_on_todays_departures(client, marketing, accounts) -> None:
    for nationality in ("TR", "DE", "GB"):
        _departing(nationality)
    ReservationFactory(booker=GuestFactory(nationality="GB"))  # arriving today: not leaving
    data = editor_data(name="Survey", source="reservations", trigger="check_out", purpose="service")
    url = reverse("campaigns:campaign-forecast")
    html = client.post(url, data).content.decode()
    assert "today&#x27;s departures" in html and _audience(html) == 3
    html = client.post(url, {**data, "excluded_nationalities": ["TR"]}).content.decode()
    assert _audience(html) == 2


def test_the_preview_renders_the_chosen_recipients_message_in_his_language(
    client, marketing, accounts
) -> None:
    english = _departing("GB", first_name="Oliver", language="en")
    russian = _departing("RU", first_name="Анна", language="ru")
    data = editor_data(
        name="Survey",
        source="reservations",
        trigger="check_out",
        purpose="service",
        texts={"en": "Thank you, @NAME!", "ru": "Спасибо, @NAME!"},
    )
    url = reverse("campaigns:campaign-preview")
    html = client.post(url, data).content.decode()
    assert f'<option value="{english.pk}" selected>' in html and "Thank you, Oliver!" in html
    html = client.post(url, {**data, "preview_record": str(russian.pk)}).content.decode()
    assert "Спасибо, Анна!" in html and "UCS-2" in html
    assert Campaign.objects.count() == 0


def test_the_preview_of_a_saved_campaign_shows_unsaved_text_and_keeps_the_saved_one(
    client, marketing, make_campaign
) -> None:
    campaign = make_campaign(source=Source.GUESTS, texts={"en": "Old text"})
    GuestFactory(first_name="Ayşe")
    html = client.post(
        reverse("campaigns:campaign-preview", args=[campaign.pk]),
        editor_data(purpose="service", texts={"en": "New text for @NAME"}),
    ).content.decode()
    assert "New text for Ayşe" in html
    assert campaign.variants.get().text == "Old text"
