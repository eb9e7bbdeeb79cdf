"""Marketing builds a campaign in a real browser; the front desk may not (C1–C9 screens)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, CampaignRun, Source, Timing, Trigger
from channels_out.ledger import credits_add
from channels_out.models import ChannelAccount
from guests.models import Hotel, Reservation
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db(transaction=True)

DEPARTING = [  # (first name, last name, nationality, language)
    ("Ayşe", "Yılmaz", "TR", "tr"),
    ("Mehmet", "Demir", "TR", "tr"),
    ("Oliver", "Smith", "GB", "en"),
    ("Hans", "Müller", "DE", "de"),
    ("Анна", "Петрова", "RU", "ru"),
]


def _seed() -> None:
    """Today's departures of several nationalities, an SMS account, credits and a few other campaigns."""
    ChannelAccount.objects.create(
        channel="sms",
        backend="locmem",
        name="Hotel SMS",
        sender="HOTEL",
        is_default=True,
        rate_per_second=1000,
    )
    credits_add(amount=Decimal("250"), key="browser-test-top-up")
    today = Hotel.load().business_date
    for first_name, last_name, nationality, language in DEPARTING:
        booker = GuestFactory(
            first_name=first_name, last_name=last_name, nationality=nationality, language=language
        )
        ReservationFactory(
            booker=booker,
            arrival=today - dt.timedelta(days=4),
            departure=today,
            status=Reservation.Status.CHECKED_IN,
        )
    birthday = Campaign.objects.create(
        name="Birthday wishes",
        source=Source.GUESTS,
        trigger=Trigger.DAILY,
        timing=Timing.BIRTHDAY,
        purpose="marketing",
    )
    birthday.steps.create(position=0, channel="sms")
    birthday.variants.create(language="en", text="Happy birthday, @NAME!")
    CampaignRun.objects.create(
        campaign=birthday,
        trigger=Trigger.DAILY,
        occurrence=f"daily:{today}",
        state=CampaignRun.State.DONE,
        audience_size=4,
        estimated_cost=Decimal("4"),
    )
    Campaign.objects.create(
        name="Pre-arrival reminder",
        trigger=Trigger.DAILY,
        timing=Timing.DAYS_BEFORE_ARRIVAL,
        offset=3,
    ).steps.create(position=0, channel="email")
    Campaign.objects.create(name="Winter newsletter 2025", source=Source.GUESTS, is_active=False)


def test_marketing_builds_a_check_out_survey_in_two_languages(page, login_as, screenshot) -> None:
    _seed()
    login_as("Marketing")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New campaign")

    page.get_by_label("Internal name", exact=True).fill("Check-out survey")
    page.get_by_label("Purpose", exact=True).select_option("service")
    page.get_by_label("Source", exact=True).select_option("reservations")
    page.get_by_label("Trigger", exact=True).select_option("check_out")
    page.locator("#id_steps-0-channel").select_option("sms")
    audience = page.locator("#audience-count")
    expect(audience).to_have_attribute("data-count", "5")

    # English, with a placeholder chip inserted at the cursor.
    english = page.locator("#id_v-en-text")
    page.get_by_role("tab", name="English").click()
    english.fill("Thank you for staying with us, ")
    english.press("End")
    page.get_by_role("button", name="@NAME", exact=True).click()
    english.press("End")
    english.type("! How was your stay? Reply to @HOTELEMAIL")
    expect(english).to_have_value(
        "Thank you for staying with us, @NAME! How was your stay? Reply to @HOTELEMAIL"
    )
    # Russian: the counter names the characters that force UCS-2.
    page.get_by_role("tab", name="Русский").click()
    russian = page.locator("#id_v-ru-text")
    russian.fill("Спасибо, что выбрали нас, @NAME! Как прошёл ваш отдых?")
    ru_counter = page.locator('[data-meter-for="id_v-ru-text"]')
    expect(ru_counter).to_contain_text("UCS-2 because of:")
    expect(ru_counter.locator("kbd").first).to_have_text("С")

    # "All except Türkiye": the audience count follows.
    page.locator("#stay-filters summary").click()
    page.locator("#id_excluded_nationalities").select_option("TR")
    expect(audience).to_have_attribute("data-count", "3")
    expect(page.locator("#cost-credits")).not_to_have_text("0")

    # Preview a recipient's real message, in his language.
    page.get_by_role("button", name="Preview a recipient's message").click()
    picker = page.get_by_label("Recipient", exact=True)
    expect(picker).to_be_visible()
    picker.select_option(label="Анна Петрова — Русский, Russia")
    expect(page.locator("#preview-message")).to_contain_text("Спасибо, что выбрали нас, Анна!")
    expect(page.locator("#preview_record option:checked")).to_have_text(
        "Анна Петрова — Русский, Russia"
    )
    picker.select_option(label="Oliver Smith — English, United Kingdom")
    expect(page.locator("#preview_record option:checked")).to_have_text(
        "Oliver Smith — English, United Kingdom"
    )
    expect(page.locator("#preview-message")).to_contain_text(
        "Thank you for staying with us, Oliver!"
    )
    page.get_by_role("tab", name="Русский").click()
    page.evaluate("window.scrollTo(0, 0)")  # the audience panel sticks to the top of the page
    screenshot("marketing-editor")

    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".flash")).to_contain_text("Campaign “Check-out survey” created.")
    page.wait_for_load_state(
        "networkidle"
    )  # the saved editor's live panels share the test database
    campaign = Campaign.objects.get(name="Check-out survey")
    assert (campaign.trigger, campaign.source) == (Trigger.CHECK_OUT, Source.RESERVATIONS)
    assert [str(country) for country in campaign.excluded_nationalities] == ["TR"]
    assert sorted(campaign.variants.values_list("language", flat=True)) == ["en", "ru"]

    page.get_by_role("link", name="Campaigns").first.click()
    expect(page.get_by_role("link", name="Check-out survey", exact=True)).to_be_visible()
    screenshot("marketing-campaigns")


def test_the_front_desk_is_refused_the_campaign_editor(page, login_as) -> None:
    login_as("Front desk")
    nav = page.get_by_role("navigation", name="Main").inner_text()
    assert "Campaigns" not in nav
    answer = page.goto("/campaigns/new/")
    assert answer is not None and answer.status == 403


def test_ticking_shorten_links_counts_the_sms_with_its_short_link(page, login_as) -> None:
    """The counter under the box and the cost both follow *shorten links in SMS*: a text whose
    long link needs two parts goes in one with the short link."""
    _seed()
    offer = (
        "https://offers.lykiabay-hotels.example/spring/sea-view-suite?utm_source=sms"
        "&utm_medium=campaign&utm_campaign=spring-2027&room=sea&nights=3&board=all-inclusive"
    )
    login_as("Marketing")
    page.goto("/campaigns/new/")
    page.get_by_label("Internal name", exact=True).fill("Come back")
    page.get_by_label("Purpose", exact=True).select_option("service")
    page.get_by_label("Source", exact=True).select_option("reservations")
    page.get_by_label("Trigger", exact=True).select_option("check_out")
    page.locator("#id_steps-0-channel").select_option("sms")
    page.get_by_role("tab", name="English").click()  # every guest gets the one language written
    page.locator("#id_v-en-text").fill(
        f"Spring at Lykia Bay: 3 nights by the sea, 20% off. Book: {offer}"
    )
    counter = page.locator('[data-meter-for="id_v-en-text"]')
    expect(counter).to_contain_text("2 parts of 153")
    expect(page.locator("#cost-credits")).to_have_text("10")  # five guests, two parts each

    page.get_by_label("Shorten links in SMS").check()
    expect(counter).to_contain_text("1 part of 160")
    expect(counter).to_contain_text("web links counted as short links")
    expect(page.locator("#cost-credits")).to_have_text("5")


def test_a_marketing_sms_is_counted_with_the_opt_out_hint_of_its_language(page, login_as) -> None:
    """The counter of a marketing SMS counts the line the sender appends (the Turkish box: the
    Turkish hint), so a text filling one part shows two; as a service message, one."""
    _seed()
    login_as("Marketing")
    page.goto("/campaigns/new/")
    page.get_by_label("Internal name", exact=True).fill("Bahar")
    page.get_by_label("Purpose", exact=True).select_option("marketing")
    page.locator("#id_steps-0-channel").select_option("sms")
    page.get_by_role("tab", name="Türkçe").click()
    page.locator("#id_v-tr-text").fill("Bahar firsati! " * 10)  # 150 GSM-7 characters
    counter = page.locator('[data-meter-for="id_v-tr-text"]')
    expect(counter).to_contain_text("2 parts of 153")
    expect(counter).to_contain_text("the opt-out hint counted")

    page.get_by_label("Purpose", exact=True).select_option("service")
    expect(counter).to_contain_text("1 part of 160")
    expect(counter).not_to_contain_text("the opt-out hint counted")
