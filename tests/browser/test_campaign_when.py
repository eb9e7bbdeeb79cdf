"""Marketing sets when and to whom in a real browser (issue 12): the recipients of a stay, a
stay timing and a send time, the changes a "reservation modified" campaign hears, the survey
link, and the dry run of a past day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, Recipients, Source, StayChange, Timing, Trigger
from channels_out.ledger import credits_add
from channels_out.models import ChannelAccount, OutboundMessage
from guests.models import Hotel, Reservation
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _sms_account() -> None:
    ChannelAccount.objects.create(
        channel="sms",
        backend="locmem",
        name="Hotel SMS",
        sender="HOTEL",
        is_default=True,
        rate_per_second=1000,
    )
    credits_add(amount=Decimal("100"), key="browser-when-top-up")


def test_marketing_sets_a_mid_stay_timing_the_changes_that_count_and_a_survey_link(
    page, login_as
) -> None:
    _sms_account()
    login_as("Marketing")
    page.goto("/campaigns/new/")
    page.get_by_label("Internal name", exact=True).fill("How is your stay?")
    page.get_by_label("Source", exact=True).select_option("reservations")
    page.get_by_label("Trigger", exact=True).select_option("daily")
    page.get_by_label("Recipients", exact=True).select_option(label="Every adult guest of the stay")
    page.get_by_label("Timing", exact=True).select_option(label="N days after arrival (mid-stay)")
    page.locator("#id_offset").fill("2")
    page.get_by_label("Send at", exact=True).fill("10:00")
    # "Dates" ticked on a daily campaign is refused next to the field; a bad link too.
    page.get_by_label("Dates", exact=True).check()
    page.get_by_label("Survey link", exact=True).fill("https://survey.example.com/?b={booking}")
    page.locator("#id_steps-0-channel").select_option("sms")
    page.get_by_role("tab", name="English").click()
    page.locator("#id_v-en-text").fill("How is your stay, @NAME? @SURVEY")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator("#id_stay_changes_error")).to_contain_text("reservation modified")
    expect(page.locator("#id_survey_url_error")).to_contain_text("Unknown placeholder {booking}")
    assert not Campaign.objects.exists()

    page.get_by_label("Dates", exact=True).uncheck()
    page.get_by_label("Survey link", exact=True).fill(
        "https://survey.example.com/?b={resno}&l={language}"
    )
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".flash")).to_contain_text("Campaign “How is your stay?” created.")
    page.wait_for_load_state("networkidle")
    campaign = Campaign.objects.get()
    assert (campaign.timing, campaign.offset) == (Timing.DAYS_AFTER_ARRIVAL, 2)
    assert (campaign.recipients, campaign.send_time) == (Recipients.ADULTS, dt.time(10, 0))
    assert campaign.survey_url == "https://survey.example.com/?b={resno}&l={language}"


def test_a_modified_campaign_keeps_the_changes_it_hears(page, login_as) -> None:
    _sms_account()
    login_as("Marketing")
    page.goto("/campaigns/new/")
    page.get_by_label("Internal name", exact=True).fill("Your new dates")
    page.get_by_label("Source", exact=True).select_option("reservations")
    page.get_by_label("Trigger", exact=True).select_option("reservation_modified")
    page.get_by_label("Dates", exact=True).check()
    page.get_by_label("Number of guests", exact=True).check()
    page.locator("#id_steps-0-channel").select_option("sms")
    page.get_by_role("tab", name="English").click()
    page.locator("#id_v-en-text").fill("Your stay is now @ARRIVAL to @DEPARTURE.")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".flash")).to_contain_text("created")
    page.wait_for_load_state("networkidle")
    assert sorted(Campaign.objects.get().stay_changes) == sorted(
        [StayChange.DATES, StayChange.GUESTS]
    )


def test_the_dry_run_shows_who_would_have_received_a_past_days_message(
    page, login_as, screenshot
) -> None:
    _sms_account()
    day = Hotel.load().business_date - dt.timedelta(days=3)
    campaign = Campaign.objects.create(
        name="Check-out eve",
        source=Source.RESERVATIONS,
        trigger=Trigger.DAILY,
        timing=Timing.DAYS_BEFORE_DEPARTURE,
        offset=1,
    )
    campaign.steps.create(position=0, channel="sms")
    campaign.variants.create(language="en", text="Tomorrow is check-out day, @NAME. Safe travels!")
    ReservationFactory(
        booker=GuestFactory(first_name="Oliver", language="en", phone="+447911123456"),
        arrival=day - dt.timedelta(days=2),
        departure=day + dt.timedelta(days=1),
        status=Reservation.Status.CHECKED_OUT,
    )
    login_as("Marketing")
    page.goto(f"/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="Dry run").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dry run of “Check-out eve”")
    page.get_by_label("Business date").fill(day.isoformat())
    page.get_by_role("button", name="Show who would have received it").click()
    # A stay that has checked out since is no longer one to remind: the audience is today's.
    expect(page.locator("#dry-run-count")).to_have_text("0 recipients would have got it")
    Reservation.objects.update(status=Reservation.Status.CHECKED_IN)
    page.reload()
    expect(page.locator("#dry-run-count")).to_have_text("1 recipient would have got it")
    expect(page.locator("[data-dry-run-record]")).to_contain_text(
        "Tomorrow is check-out day, Oliver. Safe travels!"
    )
    screenshot("marketing-dry-run")
    assert not OutboundMessage.objects.exists()
