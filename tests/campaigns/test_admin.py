"""The campaign admin: pages open, errors stand next to their field, lists stay cheap, actions call services."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import ERROR, SUCCESS, WARNING
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import (
    Campaign,
    CampaignRun,
    CampaignSettings,
    MessageVariant,
    Trigger,
    TriggerEvent,
)
from channels_out.backends import TransportError, locmem
from channels_out.models import OutboundMessage
from channels_out.services import Step, message_send
from guests.models import Agency, Hotel
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def url(model: type[Model] | Model, view: str, *args: Any) -> str:
    return reverse(f"admin:campaigns_{model._meta.model_name}_{view}", args=args)


def run_action(
    client: Client, model: type[Model], action: str, *pks: int, **extra: Any
) -> list[tuple[int, str]]:
    """Run a changelist action to its end and return the messages the changelist then shows."""
    response = client.post(
        url(model, "changelist"),
        {"action": action, "_selected_action": list(pks), **extra},
        follow=True,
    )
    assert response.redirect_chain, "the action should end with a redirect to the list"
    assert response.status_code == 200
    return [(m.level, str(m.message)) for m in response.context["messages"]]


def management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def campaign_data(
    *,
    steps: list[dict[str, str]] = (),
    variants: list[dict[str, str]] = (),
    **overrides: str,  # type: ignore[assignment]
) -> dict[str, str]:
    """What the add form posts for a campaign, with its delivery steps and message variants."""
    data = {
        "name": "Welcome",
        "description": "",
        "is_active": "on",
        "valid_from": "",
        "valid_until": "",
        "purpose": "service",
        "source": "reservations",
        "recipients": "booker",
        "trigger": "operator",
        "timing": "",
        "offset": "0",
        "scheduled_at_0": "",
        "scheduled_at_1": "",
        "age_mode": "",
        "birthday": "",
        **management("steps", len(steps)),
        **management("variants", len(variants)),
    }
    for i, step in enumerate(steps):
        data.update(
            {f"steps-{i}-{name}": value for name, value in {"position": str(i), **step}.items()}
        )
    for i, variant in enumerate(variants):
        fields = {
            "subject": "",
            "html": "",
            "text": "",
            "whatsapp_content_sid": "",
            "whatsapp_variables": "{}",
            "note": "",
            **variant,
        }
        data.update({f"variants-{i}-{name}": value for name, value in fields.items()})
    data.update(overrides)
    return data


def form_row(page: str, field: str) -> str:
    """The HTML of the form row of ``field`` (its errors are inside it)."""
    match = re.search(
        rf'<div class="form-row[^"]*\bfield-{field}\b.*?(?=<div class="form-row|</fieldset>)',
        page,
        re.S,
    )
    assert match, f"no form row for {field}"
    return match.group(0)


def list_cell(page: str, pk: int, column: str) -> str:
    """The text of ``column`` in the changelist row of the object ``pk``."""
    row = re.search(
        rf'<tr>(?:(?!</tr>).)*?name="_selected_action" value="{pk}".*?</tr>', page, re.S
    )
    assert row, f"no row for {pk}"
    cell = re.search(rf'class="field-{column}[^"]*">(.*?)</t[dh]>', row.group(0), re.S)
    assert cell, f"no {column} column"
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip()


def staff(username: str, *codenames: str) -> Client:
    user = User.objects.create_user(username=username, password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="campaigns", codename__in=codenames)
        | Permission.objects.filter(codename="open_admin")  # the admin is for managers
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def guests() -> list[Any]:
    return [GuestFactory(first_name=name) for name in ("Ayşe", "Mehmet", "Anna")]


@pytest.fixture
def populated(make_campaign, top_up, guests) -> dict[str, Model]:
    top_up(100)
    campaign = make_campaign(source="guests", name="Spring offer")
    return {
        "campaign": campaign,
        "campaignrun": CampaignRun.objects.create(
            campaign=campaign, trigger=Trigger.OPERATOR, occurrence="operator:1"
        ),
        "triggerevent": TriggerEvent.objects.create(
            kind=Trigger.DAILY, key="daily:2026-05-01", business_date=dt.date(2026, 5, 1)
        ),
        "campaignsettings": CampaignSettings.load(),
    }


# --- Every page opens --------------------------------------------------------------------------


def test_every_model_of_the_campaign_engine_is_in_the_admin() -> None:
    registered = {model for model in admin.site._registry if model._meta.app_label == "campaigns"}
    # Steps and variants are edited on their campaign.
    assert registered == {Campaign, CampaignRun, TriggerEvent, CampaignSettings}


@pytest.mark.parametrize("name", ["campaign", "campaignrun", "triggerevent", "campaignsettings"])
def test_every_changelist_and_change_page_opens(admin_client, populated, name) -> None:
    obj = populated[name]
    listing = admin_client.get(url(obj, "changelist"))
    assert listing.status_code == 200
    assert len(listing.context["cl"].result_list) == 1
    assert admin_client.get(url(obj, "change", obj.pk)).status_code == 200


def test_the_campaign_add_page_opens_with_its_inlines(admin_client) -> None:
    response = admin_client.get(url(Campaign, "add"))
    assert response.status_code == 200
    assert [f.formset.prefix for f in response.context["inline_admin_formsets"]] == [
        "steps",
        "variants",
    ]


def test_runs_and_events_are_records_without_add_change_or_delete(admin_client, populated) -> None:
    for name in ("campaignrun", "triggerevent"):
        obj = populated[name]
        assert admin_client.get(url(obj, "add")).status_code == 403
        assert admin_client.post(url(obj, "delete", obj.pk), {"post": "yes"}).status_code == 403
    page = admin_client.get(
        url(CampaignRun, "change", populated["campaignrun"].pk)
    ).content.decode()
    assert 'name="_save"' not in page


def test_the_settings_have_an_add_page_only_while_their_row_is_missing(admin_client) -> None:
    assert (
        admin_client.get(url(CampaignSettings, "add")).status_code == 403
    )  # the migration wrote it
    CampaignSettings.objects.all().delete()
    assert admin_client.get(url(CampaignSettings, "add")).status_code == 200
    response = admin_client.post(
        url(CampaignSettings, "add"),
        {
            "daily_fallback_time": "10:00",
            "arrival_time": "14:00",
            "approval_cost_threshold": "200",
            "approval_recipient_threshold": "500",
        },
    )
    assert response.status_code == 302
    assert CampaignSettings.load().approval_cost_threshold == 200
    assert admin_client.get(url(CampaignSettings, "add")).status_code == 403
    assert admin_client.post(url(CampaignSettings, "delete", 1), {"post": "yes"}).status_code == 403
    assert CampaignSettings.objects.count() == 1


# --- Errors next to their field ----------------------------------------------------------------


def test_an_hourly_campaign_on_guests_shows_the_error_next_to_the_trigger_and_saves_nothing(
    admin_client, accounts
) -> None:
    data = campaign_data(
        source="guests",
        trigger="hourly",
        timing="hours_before_arrival",
        offset="3",
        steps=[{"channel": "sms"}],
        variants=[{"language": "en", "text": "Hi @NAME"}],
    )
    response = admin_client.post(url(Campaign, "add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["trigger"] == [
        "Guests have no hours to count from: an hourly campaign needs reservations or facility bookings."
    ]
    assert errors["timing"] == ["“N hours before arrival” needs the reservations table as source."]
    assert "Guests have no hours to count from" in form_row(response.content.decode(), "trigger")
    assert not Campaign.objects.exists()
    assert not MessageVariant.objects.exists()


def test_an_unknown_placeholder_is_shown_with_its_line_next_to_the_text(
    admin_client, accounts
) -> None:
    data = campaign_data(
        steps=[{"channel": "sms"}],
        variants=[
            {
                "language": "en",
                "subject": "Hello",
                "text": "Dear @NAME,\nyour {{ guest.nonexistent }} awaits.",
            }
        ],
    )
    response = admin_client.post(url(Campaign, "add"), data)

    assert response.status_code == 200
    variants = response.context["inline_admin_formsets"][1].formset
    [message] = variants.forms[0].errors["text"]
    assert "Unknown placeholder “guest.nonexistent”" in message
    assert "(line 2)" in message
    assert "guest.nonexistent" in form_row(response.content.decode(), "text")
    assert not Campaign.objects.exists()


def test_an_account_of_another_channel_is_refused_next_to_the_account(
    admin_client, accounts
) -> None:
    data = campaign_data(
        steps=[{"channel": "sms", "account": str(accounts["email"].pk)}],
        variants=[{"language": "en", "text": "Hi"}],
    )
    response = admin_client.post(url(Campaign, "add"), data)

    assert response.status_code == 200
    steps = response.context["inline_admin_formsets"][0].formset
    assert steps.forms[0].errors["account"] == [
        "“Mail” is a E-mail account; choose a SMS account or leave it empty for the default SMS account."
    ]
    assert not Campaign.objects.exists()


def test_a_valid_campaign_is_saved_with_its_plan_and_message(
    admin_client, accounts, admin_user
) -> None:
    agency = Agency.objects.create(code="TUI", name="TUI")
    data = campaign_data(
        name="Pre-arrival",
        trigger="daily",
        timing="days_before_arrival",
        offset="3",
        agencies=[str(agency.pk)],
        genders=["female"],
        languages=["tr", "en"],
        steps=[{"channel": "viber"}, {"channel": "sms", "account": str(accounts["sms"].pk)}],
        variants=[
            {"language": "en", "text": "See you on @ARRIVAL, @NAME."},
            {"language": "tr", "text": "@ARRIVAL tarihinde görüşmek üzere, @NAME."},
        ],
    )
    response = admin_client.post(url(Campaign, "add"), data, follow=True)

    assert response.redirect_chain
    campaign = Campaign.objects.get()
    assert (campaign.timing, campaign.offset, campaign.genders, campaign.languages) == (
        "days_before_arrival",
        3,
        ["female"],
        ["tr", "en"],
    )
    assert campaign.created_by == admin_user
    assert list(campaign.agencies.all()) == [agency]
    assert [(s.position, s.channel, s.account) for s in campaign.steps.all()] == [
        (0, "viber", None),
        (1, "sms", accounts["sms"]),
    ]
    assert sorted(campaign.variants.values_list("language", flat=True)) == ["en", "tr"]
    assert [m.level for m in response.context["messages"]] == [SUCCESS]


def test_a_draft_that_cannot_send_is_saved_with_warnings(admin_client, accounts) -> None:
    data = campaign_data(
        steps=[{"channel": "email"}], variants=[{"language": "en", "text": "Hi @NAME"}]
    )
    response = admin_client.post(url(Campaign, "add"), data, follow=True)

    assert Campaign.objects.count() == 1
    warnings = [str(m.message) for m in response.context["messages"] if m.level == WARNING]
    assert warnings == [
        "Messages: [en] an e-mail step needs a subject and an HTML or text body. "
        "The campaign cannot send until this is fixed."
    ]


# --- The change page ---------------------------------------------------------------------------


def test_the_change_page_shows_placeholders_audience_cost_and_recent_runs(
    admin_client, make_campaign, top_up, guests
) -> None:
    top_up(100)
    campaign = make_campaign(source="guests", texts={"en": "Hi @NAME"})
    for n in range(7):
        CampaignRun.objects.create(
            campaign=campaign, trigger=Trigger.OPERATOR, occurrence=f"operator:{n}", audience_size=n
        )
    page = admin_client.get(url(Campaign, "change", campaign.pk)).content.decode()

    assert "<code>@SURNAME</code>" in page
    assert "{{ guest.last_name }}" in page
    assert "<strong>3 records</strong> in the audience." in form_row(page, "audience_now")
    assert (
        "3 credits for 3 recipients (SMS en: 3 messages, 3 parts GSM-7/UCS-2 = 3); balance 100 credits"
        in form_row(page, "cost_estimate")
    )
    runs = form_row(page, "recent_runs")
    assert runs.count("<li>") == 5
    assert "6 recipients" in runs
    assert "1 recipient," not in runs  # the oldest two are not listed


def test_the_change_page_says_when_the_balance_is_short(
    admin_client, make_campaign, guests
) -> None:
    campaign = make_campaign(source="guests")
    page = admin_client.get(url(Campaign, "change", campaign.pk)).content.decode()
    assert "not enough credits: cost 3 credits, balance 0" in form_row(page, "cost_estimate")


def test_a_daily_campaign_is_forecast_for_the_next_business_date(
    admin_client, make_campaign
) -> None:
    campaign = make_campaign(trigger=Trigger.DAILY, timing="days_before_arrival", offset=2)
    day = Hotel.load().business_date
    TriggerEvent.objects.create(
        kind=Trigger.DAILY, key=f"daily:{day.isoformat()}", business_date=day
    )
    page = admin_client.get(url(Campaign, "change", campaign.pk)).content.decode()
    assert f"The daily run for the business date {day + dt.timedelta(days=1):%d.%m.%Y}." in page


def test_an_event_campaign_says_there_is_nothing_to_count_ahead(
    admin_client, make_campaign
) -> None:
    campaign = make_campaign(trigger=Trigger.CHECK_IN)
    row = form_row(
        admin_client.get(url(Campaign, "change", campaign.pk)).content.decode(), "audience_now"
    )
    assert "Sent to each reservation at “Check-in”, when it happens." in row
    assert "no audience to count ahead" in row


# --- The campaign list -------------------------------------------------------------------------


def _changelist(client: Client, model: type[Model]) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    return len(queries), response


def test_the_campaign_list_costs_the_same_queries_for_3_and_20_campaigns(
    admin_client, make_campaign
) -> None:
    def make(count: int) -> None:
        for n in range(count):
            campaign = make_campaign(name=f"Campaign {n}", steps=["viber", "sms"])
            CampaignRun.objects.create(
                campaign=campaign, trigger=Trigger.OPERATOR, occurrence="operator:1"
            )

    make(3)
    admin_client.get(url(Campaign, "changelist"))  # the first request sets up the session
    few, shown_few = _changelist(admin_client, Campaign)
    make(17)
    many, shown_many = _changelist(admin_client, Campaign)
    assert (
        len(shown_few.context["cl"].result_list),
        len(shown_many.context["cl"].result_list),
    ) == (3, 20)
    assert many == few


def test_the_campaign_list_shows_timing_channels_last_run_and_validity(
    admin_client, make_campaign
) -> None:
    campaign = make_campaign(
        trigger=Trigger.DAILY,
        timing="days_before_arrival",
        offset=3,
        steps=["viber", "sms"],
        valid_from=dt.date(2026, 5, 1),
    )
    never = make_campaign(name="Never run")
    CampaignRun.objects.create(
        campaign=campaign,
        trigger=Trigger.DAILY,
        occurrence="daily:2026-05-02",
        state=CampaignRun.State.DONE,
    )
    page = admin_client.get(url(Campaign, "changelist")).content.decode()

    assert list_cell(page, campaign.pk, "timing_display") == "3 days before arrival"
    assert list_cell(page, campaign.pk, "channels") == "Viber → SMS"
    assert list_cell(page, campaign.pk, "last_run").endswith("(done)")
    assert list_cell(page, campaign.pk, "validity") == "01.05.2026 – …"
    assert list_cell(page, never.pk, "last_run") == "never"
    assert list_cell(page, never.pk, "validity") == "always"


# --- Campaign actions --------------------------------------------------------------------------


def test_activate_and_deactivate_switch_the_selected_campaigns(admin_client, make_campaign) -> None:
    first, second = make_campaign(name="A"), make_campaign(name="B", is_active=False)
    untouched = make_campaign(name="C")

    assert run_action(admin_client, Campaign, "deactivate", first.pk, second.pk) == [
        (SUCCESS, "1 campaign made passive.")
    ]
    assert not Campaign.objects.filter(pk__in=[first.pk, second.pk], is_active=True).exists()
    assert run_action(admin_client, Campaign, "activate", first.pk, second.pk) == [
        (SUCCESS, "2 campaigns activated.")
    ]
    assert Campaign.objects.filter(is_active=True).count() == 3
    untouched.refresh_from_db()
    assert untouched.is_active


def test_duplicate_copies_filters_steps_and_variants_as_a_passive_copy(
    admin_client, make_campaign, accounts
) -> None:
    agency = Agency.objects.create(code="TUI", name="TUI")
    original = make_campaign(
        name="Birthday",
        trigger=Trigger.DAILY,
        timing="birthday",
        source="guests",
        steps=["viber", "sms"],
        texts={"en": "Happy birthday @NAME", "tr": "İyi ki doğdun @NAME"},
        nationalities=["TR", "DE"],
    )
    original.agencies.add(agency)
    MessageVariant.objects.filter(campaign=original, language="en").update(
        note="Our gift: a free dessert."
    )

    messages = run_action(admin_client, Campaign, "duplicate", original.pk)

    copy = Campaign.objects.exclude(pk=original.pk).get()
    assert [level for level, _ in messages] == [SUCCESS]
    assert (copy.name, copy.is_active, copy.timing, copy.source) == (
        "Birthday (copy)",
        False,
        "birthday",
        "guests",
    )
    assert sorted(str(c) for c in copy.nationalities) == ["DE", "TR"]
    assert list(copy.agencies.all()) == [agency]
    assert list(copy.steps.values_list("position", "channel")) == [(0, "viber"), (1, "sms")]
    assert sorted(copy.variants.values_list("language", "text", "note")) == [
        ("en", "Happy birthday @NAME", "Our gift: a free dessert."),
        ("tr", "İyi ki doğdun @NAME", ""),
    ]
    assert original.steps.count() == 2
    assert original.variants.count() == 2


def test_a_standard_template_is_written_into_the_campaign(admin_client, make_campaign) -> None:
    campaign = make_campaign(trigger=Trigger.CHECK_IN, texts={"en": "Our own welcome"})
    form = admin_client.post(
        url(Campaign, "changelist"),
        {"action": "load_gallery_template", "_selected_action": [campaign.pk]},
    )
    assert form.status_code == 200
    assert "welcome" in dict(form.context["form"].fields["key"].choices)

    messages = run_action(
        admin_client,
        Campaign,
        "load_gallery_template",
        campaign.pk,
        apply="yes",
        key="welcome",
        languages=["en", "tr"],
    )

    assert messages == [(SUCCESS, f"{campaign}: wrote tr.")]
    assert campaign.variants.get(language="en").text == "Our own welcome"  # kept: no overwrite
    assert campaign.variants.get(language="tr").text


def test_the_preview_shows_each_recipient_with_his_rendered_message(
    admin_client, make_campaign, top_up
) -> None:
    top_up(10)
    GuestFactory(first_name="Ayşe", language="tr", phone="+905321112233")
    GuestFactory(first_name="Hans", language="de")
    campaign = make_campaign(
        source="guests", texts={"en": "Hello @NAME", "tr": "Merhaba @NAME, hoş geldiniz"}
    )

    response = admin_client.post(
        url(Campaign, "changelist"), {"action": "preview_action", "_selected_action": [campaign.pk]}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Merhaba Ayşe, hoş geldiniz" in page
    assert "+905321112233" in page
    assert "Hello Hans" in page  # no German text: the fallback language
    assert [row.language for row in response.context["preview"].rows] == ["tr", "en"]
    assert response.context["estimate"].recipients == 2
    assert not OutboundMessage.objects.exists()


def test_send_now_asks_first_then_sends_to_everyone(
    admin_client, make_campaign, top_up, guests, django_capture_on_commit_callbacks
) -> None:
    top_up(100)
    campaign = make_campaign(source="guests", texts={"en": "Hi @NAME"})
    confirm = admin_client.post(
        url(Campaign, "changelist"), {"action": "send_now", "_selected_action": [campaign.pk]}
    )
    assert confirm.status_code == 200
    assert confirm.context["estimate"].recipients == 3
    assert not CampaignRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        messages = run_action(admin_client, Campaign, "send_now", campaign.pk, confirm="yes")

    run = CampaignRun.objects.get()
    assert [level for level, _ in messages] == [SUCCESS]
    assert "sending to 3 recipients, 3 credits estimated" in messages[0][1]
    assert sorted(m.body for m in locmem.outbox) == ["Hi Anna", "Hi Ayşe", "Hi Mehmet"]
    assert run.requested_by.username == "admin"


def test_send_now_reports_the_cost_when_the_balance_is_short(
    admin_client, make_campaign, top_up, guests
) -> None:
    top_up(1)
    campaign = make_campaign(source="guests")
    messages = run_action(admin_client, Campaign, "send_now", campaign.pk, confirm="yes")
    assert messages == [(ERROR, f"{campaign}: Not sent: cost 3 credits, balance 1.")]
    assert CampaignRun.objects.get().state == CampaignRun.State.REFUSED


def test_send_now_refuses_a_campaign_that_sends_itself(admin_client, make_campaign) -> None:
    campaign = make_campaign(trigger=Trigger.CHECK_IN)
    messages = run_action(admin_client, Campaign, "send_now", campaign.pk, confirm="yes")
    assert messages == [
        (ERROR, f"{campaign}: only an operator campaign is sent by hand; this one sends itself.")
    ]
    assert not CampaignRun.objects.exists()


# --- Runs --------------------------------------------------------------------------------------


def test_the_run_list_counts_each_runs_messages_in_the_same_queries_for_2_and_10_runs(
    admin_client, make_campaign, top_up, deliver_queued
) -> None:
    top_up(100)
    campaign = make_campaign()

    def runs(count: int) -> list[CampaignRun]:
        start = CampaignRun.objects.count()
        return [
            CampaignRun.objects.create(
                campaign=campaign, trigger=Trigger.OPERATOR, occurrence=f"operator:{n}"
            )
            for n in range(start, start + count)
        ]

    def send(run: CampaignRun, **kwargs: Any) -> OutboundMessage:
        return message_send(steps=Step(channel="sms", text="Hello"), origin=run, **kwargs)

    busy, quiet = runs(2)
    send(busy, guest=GuestFactory())
    send(busy, guest=GuestFactory())
    locmem.script(TransportError("unknown subscriber", permanent=True))
    deliver_queued()  # busy: one failed, one sent
    send(busy, guest=GuestFactory(phone="", phone_valid=False))  # skipped: no number
    send(busy, guest=GuestFactory(), purpose="marketing")  # skipped: no consent
    send(busy, guest=GuestFactory(phone="", phone_valid=False))
    send(quiet, guest=GuestFactory())  # stays queued

    admin_client.get(url(CampaignRun, "changelist"))  # the first request sets up the session
    few, response = _changelist(admin_client, CampaignRun)
    for run in runs(8):
        send(run, guest=GuestFactory())
    many, more = _changelist(admin_client, CampaignRun)

    assert (len(response.context["cl"].result_list), len(more.context["cl"].result_list)) == (2, 10)
    assert many == few
    page = response.content.decode()
    cells = {
        column: list_cell(page, busy.pk, column)
        for column in ("queued", "sent", "failed", "skipped", "spent")
    }
    assert cells == {
        "queued": "0",
        "sent": "1",
        "failed": "1",
        "skipped": "3 (No address for this channel 2, No consent 1)",
        "spent": "1",
    }
    assert [list_cell(page, quiet.pk, c) for c in ("queued", "sent", "skipped", "spent")] == [
        "1",
        "0",
        "0",
        "0",
    ]


@pytest.fixture
def awaiting(
    make_campaign, top_up, guests, django_capture_on_commit_callbacks
) -> tuple[CampaignRun, Client]:
    """An operator send above the approval threshold, asked for through the admin by a manager."""
    top_up(100)
    rules = CampaignSettings.load()
    rules.approval_recipient_threshold = 2
    rules.save()
    campaign = make_campaign(source="guests", texts={"en": "Hi @NAME"})
    requester = staff(
        "requester", "view_campaign", "send_campaign", "view_campaignrun", "approve_send"
    )
    with django_capture_on_commit_callbacks(execute=True):
        messages = run_action(requester, Campaign, "send_now", campaign.pk, confirm="yes")
    run = CampaignRun.objects.get()
    assert run.state == CampaignRun.State.AWAITING_APPROVAL
    assert [level for level, _ in messages] == [WARNING]
    assert "awaiting approval" in messages[0][1]
    assert not OutboundMessage.objects.exists()
    return run, requester


def test_the_requester_cannot_approve_his_own_send(awaiting) -> None:
    run, requester = awaiting
    messages = run_action(requester, CampaignRun, "approve", run.pk)
    assert messages == [
        (ERROR, f"{run}: A send cannot be approved by the person who asked for it.")
    ]
    run.refresh_from_db()
    assert (run.state, run.approved_by) == (CampaignRun.State.AWAITING_APPROVAL, None)


def test_a_second_manager_approves_and_the_run_is_launched(
    awaiting, django_capture_on_commit_callbacks
) -> None:
    run, _ = awaiting
    manager = staff("manager", "view_campaignrun", "approve_send")
    with django_capture_on_commit_callbacks(execute=True):
        messages = run_action(manager, CampaignRun, "approve", run.pk)
    assert messages == [(SUCCESS, "1 send approved and launched.")]
    run.refresh_from_db()
    assert run.approved_by.username == "manager"
    assert run.state == CampaignRun.State.DONE
    assert OutboundMessage.objects.filter(origin_id=run.pk).count() == 3
    assert sorted(m.body for m in locmem.outbox) == ["Hi Anna", "Hi Ayşe", "Hi Mehmet"]


def test_staff_without_the_approval_permission_are_not_offered_approval(awaiting) -> None:
    run, _ = awaiting
    manager = staff("manager", "view_campaignrun", "approve_send")
    assert (
        "Approve the selected sends" in manager.get(url(CampaignRun, "changelist")).content.decode()
    )
    clerk = staff("clerk", "view_campaignrun")
    response = clerk.get(url(CampaignRun, "changelist"))
    assert response.status_code == 200
    assert "Approve the selected sends" not in response.content.decode()
    assert "Reject the selected sends" not in response.content.decode()
    refused = clerk.post(
        url(CampaignRun, "changelist"), {"action": "approve", "_selected_action": [run.pk]}
    )
    assert refused.status_code == 200  # "no action selected": the list again, nothing done
    run.refresh_from_db()
    assert run.state == CampaignRun.State.AWAITING_APPROVAL


def test_a_manager_rejects_a_send_and_nothing_goes(
    awaiting, django_capture_on_commit_callbacks
) -> None:
    run, _ = awaiting
    manager = staff("manager", "view_campaignrun", "approve_send")
    with django_capture_on_commit_callbacks(execute=True):
        messages = run_action(manager, CampaignRun, "reject", run.pk)
    assert messages == [(SUCCESS, "1 send rejected; nothing was sent.")]
    run.refresh_from_db()
    assert run.state == CampaignRun.State.REJECTED
    assert not OutboundMessage.objects.exists()
    again = run_action(manager, CampaignRun, "approve", run.pk)
    assert again == [
        (ERROR, f"{run}: This send is rejected by the approver, not awaiting approval.")
    ]


def test_the_run_page_links_to_its_messages_in_the_send_log(
    admin_client, make_campaign, top_up
) -> None:
    top_up(10)
    campaign = make_campaign()
    run, other = (
        CampaignRun.objects.create(
            campaign=campaign, trigger=Trigger.OPERATOR, occurrence=f"operator:{n}"
        )
        for n in range(2)
    )
    mine = message_send(steps=Step(channel="sms", text="Mine"), guest=GuestFactory(), origin=run)
    message_send(steps=Step(channel="sms", text="Other"), guest=GuestFactory(), origin=other)

    page = admin_client.get(url(CampaignRun, "change", run.pk)).content.decode()
    log_url = re.search(r'href="([^"]*outboundmessage/\?[^"]*)">show them in the send log', page)
    assert log_url
    listing = admin_client.get(log_url.group(1).replace("&amp;", "&"))
    assert list(listing.context["cl"].result_list) == [mine]


def test_trigger_events_can_be_filtered_by_processed(admin_client) -> None:
    done = TriggerEvent.objects.create(
        kind=Trigger.HOURLY, key="hourly:1", processed_at=dt.datetime.now(dt.UTC)
    )
    pending = TriggerEvent.objects.create(kind=Trigger.HOURLY, key="hourly:2")
    assert list(
        admin_client.get(url(TriggerEvent, "changelist") + "?processed=no")
        .context["cl"]
        .result_list
    ) == [pending]
    assert list(
        admin_client.get(url(TriggerEvent, "changelist") + "?processed=yes")
        .context["cl"]
        .result_list
    ) == [done]
