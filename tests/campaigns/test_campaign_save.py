"""campaign_save writes a campaign, its plan and its messages together, and keeps the change in
the campaign's history; the other definition services keep theirs too."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model

from campaigns.gallery import gallery_apply
from campaigns.models import Campaign, CampaignStep, MessageVariant, Trigger
from campaigns.services import campaign_duplicate, campaign_save, campaign_set_active
from guests.models import Agency

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer():
    return get_user_model().objects.create_user("marketer", password="pw")


def history(campaign: Campaign) -> list[tuple[int, str]]:
    entries = LogEntry.objects.filter(object_id=str(campaign.pk)).order_by("pk")
    return [(entry.action_flag, entry.change_message) for entry in entries]


def test_a_new_campaign_is_written_with_its_plan_messages_filters_and_author(
    accounts, marketer
) -> None:
    agency = Agency.objects.create(code="TUI", name="TUI")
    campaign = campaign_save(
        fields={"name": "Welcome", "trigger": Trigger.CHECK_IN, "agencies": [agency]},
        steps=[("viber", accounts["viber"]), ("sms", accounts["sms"])],
        variants={"en": {"text": "Welcome @NAME"}, "tr": None},
        user=marketer,
        where="in the campaign editor",
    )
    campaign.refresh_from_db()
    assert (campaign.name, campaign.trigger, campaign.created_by) == (
        "Welcome",
        Trigger.CHECK_IN,
        marketer,
    )
    assert list(campaign.agencies.all()) == [agency]
    assert [(s.position, s.channel, s.account) for s in campaign.steps.order_by("position")] == [
        (0, "viber", accounts["viber"]),
        (1, "sms", accounts["sms"]),
    ]
    assert list(campaign.variants.values_list("language", "text")) == [("en", "Welcome @NAME")]
    assert history(campaign) == [(ADDITION, "Created in the campaign editor.")]


def test_an_unchanged_plan_and_message_are_left_alone_and_a_blank_language_is_removed(
    make_campaign, accounts, marketer
) -> None:
    campaign = make_campaign(steps=["sms"], texts={"en": "Hi", "de": "Hallo"})
    step = campaign.steps.get()
    step.account = accounts["sms"]
    step.save()
    english = campaign.variants.get(language="en")
    campaign_save(
        campaign=campaign,
        fields={"name": "Renamed"},
        steps=[("sms", accounts["sms"])],
        variants={"en": {"text": "Hi", "subject": "Hello", "html": "<p>Hi</p>"}, "de": None},
        user=marketer,
    )
    assert CampaignStep.objects.get(campaign=campaign).pk == step.pk
    assert list(MessageVariant.objects.filter(campaign=campaign)) == [english]
    assert Campaign.objects.get(pk=campaign.pk).name == "Renamed"
    assert history(campaign) == [(CHANGE, "Changed.")]


def test_a_refused_write_leaves_nothing_behind(make_campaign, marketer) -> None:
    campaign = make_campaign(texts={"en": "Hi"})
    with pytest.raises(ValueError):
        campaign_save(
            campaign=campaign,
            fields={"name": "Half written"},
            steps=[("sms", "not an account")],  # type: ignore[list-item]
            user=marketer,
        )
    assert Campaign.objects.get(pk=campaign.pk).name == "Test campaign"
    assert history(campaign) == []


def test_activating_duplicating_and_the_gallery_are_kept_in_the_history(
    make_campaign, marketer
) -> None:
    campaign = make_campaign(is_active=False)
    assert campaign_set_active(campaigns=[campaign], active=True, user=marketer) == 1
    assert campaign_set_active(campaigns=[campaign], active=True, user=marketer) == 0
    gallery_apply(campaign=campaign, key="welcome", languages=["de"], user=marketer)
    copy = campaign_duplicate(campaign, user=marketer)
    assert history(campaign) == [
        (CHANGE, "Activated."),
        (CHANGE, "Loaded the standard template “welcome” (de)."),
    ]
    assert history(copy) == [(ADDITION, f"Copied from “Test campaign” (#{campaign.pk}).")]


def test_the_system_leaves_no_history(make_campaign) -> None:
    campaign = make_campaign(is_active=False)
    campaign_set_active(campaigns=[campaign], active=True)
    assert history(campaign) == []


def test_a_campaign_added_in_the_admin_is_written_by_the_service_with_one_history_entry(
    admin_client, accounts, admin_user
) -> None:
    from tests.campaigns.test_admin import campaign_data, url

    data = campaign_data(
        name="From the admin",
        steps=[{"channel": "sms", "account": str(accounts["sms"].pk)}],
        variants=[{"language": "en", "text": "Hi @NAME"}],
    )
    assert admin_client.post(url(Campaign, "add"), data).status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.created_by == admin_user
    assert list(campaign.steps.values_list("channel", "account")) == [("sms", accounts["sms"].pk)]
    assert list(campaign.variants.values_list("language", "text")) == [("en", "Hi @NAME")]
    assert history(campaign) == [(ADDITION, "Created in the admin.")]
