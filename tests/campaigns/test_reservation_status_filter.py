"""A reservations campaign can be narrowed to stays in chosen statuses ("in house" reaches only guests in house)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from campaigns.admin.forms import CampaignForm
from campaigns.models import Campaign, Source, Trigger
from campaigns.occurrences import Occurrence
from campaigns.validation import definition_errors
from guests.models import ConsentPurpose, Reservation
from tests.factories import ReservationFactory

from .test_screens_support import editor_data, staff_user

pytestmark = pytest.mark.django_db
Status = Reservation.Status


def _members(campaign: Campaign) -> set[int]:
    from campaigns.audiences import audience

    return set(audience(campaign, Occurrence.operator()).values_list("pk", flat=True))


@pytest.fixture
def stays() -> dict[str, Reservation]:
    return {status: ReservationFactory(status=status) for status in Status.values}


def test_an_in_house_campaign_reaches_only_guests_in_house(stays) -> None:
    campaign = Campaign.objects.create(
        name="in-house", source=Source.RESERVATIONS, reservation_statuses=[Status.CHECKED_IN]
    )
    assert _members(campaign) == {stays[Status.CHECKED_IN].pk}


def test_statuses_combine_and_may_reach_cancelled_or_no_show_stays(stays) -> None:
    campaign = Campaign.objects.create(
        name="win back", source=Source.RESERVATIONS, reservation_statuses=["cancelled", "no_show"]
    )
    assert _members(campaign) == {stays[Status.CANCELLED].pk, stays[Status.NO_SHOW].pk}


def test_without_statuses_every_active_stay_is_reached_as_before(stays) -> None:
    campaign = Campaign.objects.create(name="all", source=Source.RESERVATIONS)
    assert _members(campaign) == {
        stays[s].pk for s in (Status.CONFIRMED, Status.CHECKED_IN, Status.CHECKED_OUT)
    }


def test_a_status_filter_is_refused_on_other_sources_and_unknown_values() -> None:
    on_guests = Campaign(name="x", source=Source.GUESTS, reservation_statuses=["checked_in"])
    assert "reservations table" in definition_errors(on_guests)["reservation_statuses"][0]
    unknown = Campaign(name="x", source=Source.RESERVATIONS, reservation_statuses=["arrived"])
    assert (
        "Unknown reservation status: arrived"
        in definition_errors(unknown)["reservation_statuses"][0]
    )
    cancellation = Campaign(
        name="x",
        source=Source.RESERVATIONS,
        trigger=Trigger.CANCELLATION,
        reservation_statuses=["checked_in"],
    )
    assert "cancelled stays only" in definition_errors(cancellation)["reservation_statuses"][0]


def test_the_editor_saves_the_statuses_and_refuses_them_on_guests(client) -> None:
    client.force_login(staff_user("Marketing"))
    data = editor_data(
        name="In house tonight",
        source="reservations",
        purpose="service",
        reservation_statuses=["checked_in"],
    )
    response = client.post(reverse("campaigns:campaign-create"), data)
    assert response.status_code == 302
    assert Campaign.objects.get().reservation_statuses == ["checked_in"]
    refused = client.post(
        reverse("campaigns:campaign-create"),
        editor_data(name="Guests", source="guests", reservation_statuses=["checked_in"]),
    )
    assert refused.status_code == 200
    assert "needs the reservations table" in refused.content.decode()
    assert Campaign.objects.count() == 1


def test_a_new_marketing_campaign_starts_asking_for_consent_and_without_the_greylist() -> None:
    form = CampaignForm(initial={"purpose": ConsentPurpose.MARKETING})
    assert form["require_channel_consent"].value() is True
    assert form["exclude_greylisted"].value() is True
    service = CampaignForm(initial={"purpose": ConsentPurpose.SERVICE})
    assert not service["require_channel_consent"].value()
    saved = Campaign.objects.create(name="old", purpose=ConsentPurpose.MARKETING)
    assert not CampaignForm(instance=saved)["require_channel_consent"].value()


def test_the_gallerys_marketing_templates_open_with_consent_required(client) -> None:
    client.force_login(staff_user("Marketing"))
    page = client.get(reverse("campaigns:campaign-create") + "?template=birthday").content.decode()
    box = re.search(r"<input[^>]*name=\"require_channel_consent\"[^>]*>", page)
    assert box is not None and " checked" in box.group(0)
