"""The campaign editor: every field of a campaign, its plan and its messages; refusals next to the field."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from campaigns.models import Campaign, CampaignStep, MessageVariant, Source, Trigger
from guests.models import Agency

from .test_screens_support import editor_data

pytestmark = pytest.mark.django_db

CREATE = reverse("campaigns:campaign-create")


def _error_of(html: str, field_id: str) -> str:
    """The error text shown under the field with id ``field_id``."""
    match = re.search(
        rf'<span class="error" id="{re.escape(field_id)}_error">(.*?)</span>', html, re.S
    )
    assert match, f"no error shown next to {field_id}"
    return match.group(1)


def _counts() -> tuple[int, int, int]:
    return Campaign.objects.count(), CampaignStep.objects.count(), MessageVariant.objects.count()


def test_the_editor_offers_every_filter_the_chips_the_language_tabs_and_the_counter(
    client, marketing, reference_data
) -> None:
    html = client.get(CREATE).content.decode()
    for field in (
        "id_excluded_nationalities",
        "id_nights_min",
        "id_age_mode",
        "id_require_channel_consent",
        "id_facility_types_0",
        "id_room_types_0",
        "id_steps-0-channel",
        "id_steps-3-account",
        "id_v-de-text",
    ):
        assert f'id="{field}' in html, field
    assert 'data-insert="@NAME"' in html and 'title="{{ guest.first_name }}"' in html
    assert 'role="tab"' in html and 'id="tab-ru"' in html
    assert reverse("channels_out:meter") in html and 'data-meter-for="id_v-en-text"' in html
    assert reverse("campaigns:campaign-forecast") in html


def test_it_saves_a_campaign_with_two_language_variants(client, marketing, accounts) -> None:
    Agency.objects.create(code="TUI", name="TUI")
    agency = Agency.objects.get()
    data = editor_data(
        name="Check-out survey",
        source="reservations",
        trigger="check_out",
        purpose="service",
        excluded_nationalities=["TR"],
        nights_min="3",
        agencies=[agency.pk],
        steps=[("sms", accounts["sms"].pk), "email"],
        texts={"en": "Thank you, @NAME!", "de": "Danke, @NAME!"},
        subjects={"en": "How was your stay?", "de": "Wie war Ihr Aufenthalt?"},
    )
    answer = client.post(CREATE, data)
    campaign = Campaign.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "campaigns:campaign-edit", args=[campaign.pk]
    )
    assert (campaign.name, campaign.trigger, campaign.source, campaign.nights_min) == (
        "Check-out survey",
        Trigger.CHECK_OUT,
        Source.RESERVATIONS,
        3,
    )
    assert [str(c) for c in campaign.excluded_nationalities] == ["TR"]
    assert list(campaign.agencies.all()) == [agency]
    assert campaign.created_by == marketing
    assert [(s.position, s.channel, s.account_id) for s in campaign.steps.all()] == [
        (0, "sms", accounts["sms"].pk),
        (1, "email", None),
    ]
    variants = {v.language: (v.subject, v.text) for v in campaign.variants.all()}
    assert variants == {
        "en": ("How was your stay?", "Thank you, @NAME!"),
        "de": ("Wie war Ihr Aufenthalt?", "Danke, @NAME!"),
    }
    assert LogEntry.objects.get(object_id=str(campaign.pk)).user == marketing


def test_an_hourly_campaign_on_guests_is_refused_next_to_the_trigger_and_nothing_is_saved(
    client, marketing
) -> None:
    answer = client.post(
        CREATE,
        editor_data(source="guests", trigger="hourly", timing="hours_before_arrival", offset="3"),
    )
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "an hourly campaign needs reservations or facility bookings" in _error_of(
        html, "id_trigger"
    )
    assert "needs the reservations table as source" in _error_of(html, "id_timing")
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    assert _counts() == (0, 0, 0)


def test_an_unknown_placeholder_is_refused_next_to_the_text_with_its_line(
    client, marketing
) -> None:
    answer = client.post(
        CREATE, editor_data(texts={"en": "Hello @NAME", "de": "Hallo\n{{ guest.nope }}"})
    )
    html = answer.content.decode()
    error = _error_of(html, "id_v-de-text")
    assert "guest.nope" in error and "(line 2)" in error
    assert 'id="id_v-en-text_error"' not in html
    assert (
        'aria-selected="true"\n              tabindex="0">Deutsch' in html
    )  # the tab with the problem is open
    assert _counts() == (0, 0, 0)


def test_an_account_of_another_channel_is_refused_next_to_the_account(
    client, marketing, accounts
) -> None:
    html = client.post(CREATE, editor_data(steps=[("sms", accounts["email"].pk)])).content.decode()
    assert "is a E-mail account; choose a SMS account" in _error_of(html, "id_steps-0-account")
    assert _counts() == (0, 0, 0)


def test_a_draft_without_a_channel_is_saved_with_the_plan_problems_as_warnings(
    client, marketing
) -> None:
    answer = client.post(CREATE, editor_data(steps=[], texts={}), follow=True)
    html = answer.content.decode()
    assert Campaign.objects.count() == 1
    assert "Delivery plan: Choose at least one channel to deliver by." in html
    assert "Messages: Write the message in at least one language." in html


def test_editing_rewrites_the_plan_and_drops_a_cleared_language(
    client, marketing, make_campaign
) -> None:
    campaign = make_campaign(
        name="Welcome",
        steps=["sms", "email"],
        texts={"en": "Hi @NAME", "tr": "Merhaba @NAME"},
        source=Source.GUESTS,
    )
    url = reverse("campaigns:campaign-edit", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert "Merhaba @NAME" in page and 'value="Welcome"' in page
    answer = client.post(
        url,
        editor_data(
            name="Welcome back",
            steps=["email", "sms"],
            texts={"en": "Hi @NAME"},
            subjects={"en": "Hello"},
        ),
    )
    assert answer.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Welcome back"
    assert [s.channel for s in campaign.steps.all()] == ["email", "sms"]
    assert list(campaign.variants.values_list("language", flat=True)) == ["en"]


def test_a_one_off_needs_its_time_next_to_the_field(client, marketing) -> None:
    html = client.post(CREATE, editor_data(trigger="once")).content.decode()
    assert "needs the date and time to send" in _error_of(html, "id_scheduled_at")
    answer = client.post(CREATE, editor_data(trigger="once", scheduled_at="2030-05-01T09:30"))
    assert answer.status_code == 302
    assert Campaign.objects.get().scheduled_at is not None


def test_a_validity_range_that_ends_first_is_one_problem_in_plain_words(client, marketing) -> None:
    answer = client.post(CREATE, editor_data(valid_from="2030-05-10", valid_until="2030-05-01"))
    html = answer.content.decode()

    assert "ends before it starts" in _error_of(html, "id_valid_until")
    assert "campaign_validity_range_ordered" not in html  # the database's name for the rule
    assert "1 problem kept the campaign from being saved" in html
    assert _counts() == (0, 0, 0)


def test_a_new_campaign_can_start_from_a_standard_template(client, marketing) -> None:
    html = client.get(CREATE, {"template": "post_stay_survey"}).content.decode()
    assert 'value="days_after_departure" selected' in html
    assert "Sayın @NAME @SURNAME" in html  # the Turkish text, ready to adapt


def test_a_standard_template_loads_into_a_saved_campaign(client, marketing, make_campaign) -> None:
    campaign = make_campaign(texts={"en": "Mine"})
    url = reverse("campaigns:campaign-gallery", args=[campaign.pk])
    answer = client.post(url, {"key": "birthday", "languages": ["en", "de"]}, follow=True)
    variants = {v.language: v.text for v in campaign.variants.all()}
    assert variants["en"] == "Mine" and "@NAME" in variants["de"]
    assert "Loaded the standard template in de." in answer.content.decode()
    client.post(url, {"key": "birthday", "languages": ["en"], "overwrite": "on"})
    assert campaign.variants.get(language="en").text != "Mine"


def test_saving_unchanged_plan_and_messages_keeps_them_as_they_are(
    client, marketing, make_campaign
) -> None:
    campaign = make_campaign(
        steps=["viber", "sms"],
        texts={"en": "Hi @NAME", "de": "Hallo @NAME"},
        subjects={"en": "Hello", "de": "Hallo"},
        source=Source.GUESTS,
    )
    steps = list(campaign.steps.values_list("pk", "channel"))
    variants = list(campaign.variants.values_list("pk", "updated_at"))
    data = editor_data(
        name="Renamed",
        steps=["viber", "sms"],
        texts={"en": "Hi @NAME", "de": "Hallo @NAME"},
        subjects={"en": "Hello", "de": "Hallo"},
    )
    data.update({"v-en-html": "<p>Hi @NAME</p>", "v-de-html": "<p>Hallo @NAME</p>"})
    answer = client.post(reverse("campaigns:campaign-edit", args=[campaign.pk]), data)
    assert answer.status_code == 302
    assert list(campaign.steps.values_list("pk", "channel")) == steps
    assert list(campaign.variants.values_list("pk", "updated_at")) == variants


def test_every_editable_field_of_a_campaign_is_in_one_of_the_editors_panels() -> None:
    from interfaces.marketing.forms import CampaignEditorForm as Form

    shown = [*Form.BASICS, *Form.TRIGGER, *Form.STAY, *Form.GUEST, *Form.FACILITY]
    editable = {
        field.name
        for field in Campaign._meta.get_fields()
        if getattr(field, "editable", False) and not field.auto_created
    } - {"created_by"}
    assert sorted(shown) == sorted(editable) == sorted(Form._meta.fields)
