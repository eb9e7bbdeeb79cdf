"""The front desk in a real browser: checking a guest in and watching the welcome message
arrive, typing a one-off SMS in Cyrillic while the counter follows, and keeping a guest's
consent and greylist. Screenshots of the reservation and guest pages go to docs/screenshots/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign, CampaignStep, MessageVariant, Trigger
from channels_out.models import InboundMessage, OutboundMessage
from channels_out.services import Step, message_send
from guests.models import (
    Agency,
    BoardType,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    GreylistEntry,
    Guest,
    Hotel,
    Reservation,
    ReservationCompanion,
    RoomType,
    SourceChannel,
)
from guests.services import guest_record_consent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stay(reference_data, accounts, top_up) -> Reservation:
    """Tonight's arrival: Ayşe and her husband, who has a warning note; 100 credits on the SMS account."""
    top_up(100)
    today = Hotel.load().business_date
    booker = Guest.objects.create(
        first_name="Ayşe",
        last_name="Yılmaz",
        phone="+905321234567",
        phone_valid=True,
        email="ayse.yilmaz@example.com",
        language="en",
        nationality="TR",
        vip_level=1,
        stay_count=2,
    )
    husband = Guest.objects.create(
        first_name="Mehmet",
        last_name="Yılmaz",
        phone="+905339876543",
        phone_valid=True,
        language="tr",
        nationality="TR",
        warning_note="Disputed the minibar bill last stay; settle extras daily.",
    )
    reservation = Reservation.objects.create(
        booker=booker,
        arrival=today,
        departure=today + dt.timedelta(days=5),
        room_type=RoomType.objects.get(code="SV"),
        board_type=BoardType.objects.get(code="HB"),
        nightly_rate=Decimal("140.00"),
        total_amount=Decimal("700.00"),
        adults=2,
        agency=Agency.objects.get(code="TUI"),
        source_channel=SourceChannel.objects.get(code="TO"),
        external_ref="TUI-88412",
    )
    ReservationCompanion.objects.create(reservation=reservation, guest=husband)
    return reservation


@pytest.fixture
def welcome(stay) -> Campaign:
    """A check-in campaign by SMS on the in-memory account."""
    campaign = Campaign.objects.create(name="Welcome", trigger=Trigger.CHECK_IN)
    CampaignStep.objects.create(campaign=campaign, position=0, channel="sms")
    MessageVariant.objects.create(
        campaign=campaign,
        language="en",
        text="Welcome @NAME, your room @ROOM is ready.",
        subject="Welcome",
        html="<p>Welcome</p>",
    )
    return campaign


def test_the_front_desk_checks_a_guest_in_and_sees_the_welcome_message_arrive(
    page, login_as, screenshot, stay, welcome
) -> None:
    login_as("Front desk")
    page.goto("/desk/reservations/")
    page.get_by_role("link", name=stay.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ayşe Yılmaz")
    expect(page.locator(".warning-note")).to_contain_text("Disputed the minibar bill")

    page.get_by_label("Room number").fill("214")
    page.get_by_role("button", name="Check in").click()

    expect(page.locator(".flash")).to_contain_text(f"{stay.number} checked in, room 214.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checked in")
    history = page.locator("#message-history")
    expect(history).to_contain_text("Welcome Ayşe, your room 214 is ready.")
    expect(history).to_contain_text("campaign")
    expect(history.locator(".badge").first).to_have_text("Sent")
    message = OutboundMessage.objects.get()
    assert (message.reservation_id, message.to) == (stay.pk, "+905321234567")
    screenshot("frontdesk-reservation")


def test_a_turkish_front_desk_picks_turkce_and_checks_a_guest_in_in_turkish(
    page, login_as, screenshot, stay, welcome
) -> None:
    login_as("Front desk")
    page.goto("/desk/reservations/")
    page.get_by_label("Language").select_option("tr")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rezervasyonlar")
    page.get_by_role("link", name=stay.number).click()

    page.get_by_label("Oda numarası").fill("214")
    page.get_by_role("button", name="Check-in yap").click()
    expect(page.locator(".flash")).to_contain_text(f"{stay.number} check-in yaptı, oda 214.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check-in yapıldı")
    history = page.locator("#message-history")
    expect(history).to_contain_text(
        "Welcome Ayşe, your room 214 is ready."
    )  # the guest's language: English
    expect(history.locator(".badge").first).to_have_text("Gönderildi")
    assert Reservation.objects.get(pk=stay.pk).status == Reservation.Status.CHECKED_IN
    screenshot("frontdesk-reservation-tr")


def test_the_counter_follows_a_cyrillic_sms_past_70_characters_and_the_message_is_sent(
    page, login_as, stay
) -> None:
    login_as("Front desk")
    page.goto(f"/desk/reservations/{stay.pk}/")
    expect(page.get_by_label("Channel")).to_have_value("sms")
    expect(page.get_by_label("Phone number")).to_have_value("+90 532 123 45 67")
    meter = page.locator("#meter")
    text = "Здравствуйте, Айше! Ваш номер 214 готов, ждём вас на ресепшене с 14:00 часов."
    assert len(text) > 70
    box = page.get_by_label("Message", exact=True)

    box.fill(text[:60])
    expect(meter).to_contain_text("60 characters · UCS-2 · 1 part of 70")
    expect(meter).to_contain_text("UCS-2 because of:")
    expect(meter).to_contain_text("cost 1 credit")

    box.press_sequentially(text[60:], delay=15)
    expect(meter).to_contain_text(f"{len(text)} characters · UCS-2 · 2 parts of 67")
    expect(meter).to_contain_text("cost 2 credits")
    expect(meter).to_contain_text("balance 100")

    page.get_by_role("button", name="Send").click()
    expect(page.locator(".flash")).to_contain_text(
        "SMS to +905321234567 is on its way · 2 credits."
    )
    expect(page.locator("#message-history")).to_contain_text(text)
    message = OutboundMessage.objects.get()
    assert (message.body, message.segments, message.encoding, message.source) == (
        text,
        2,
        "UCS-2",
        "front_desk",
    )


def test_a_bad_number_is_refused_next_to_the_field_in_the_browser(page, login_as, stay) -> None:
    login_as("Front desk")
    page.goto(f"/desk/reservations/{stay.pk}/")
    page.get_by_label("Phone number").fill("+90 532 12")
    page.get_by_label("Message", exact=True).fill("Your room is ready.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#id_to_error")).to_contain_text("is not a valid phone number")
    expect(page.get_by_label("Phone number")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Message", exact=True)).to_have_value("Your room is ready.")
    assert not OutboundMessage.objects.exists()


def redrawn(page, change: Callable[[], None]) -> None:
    """Make a change that re-draws the send form, and wait until htmx has settled the new form
    (a person never picks again within those few milliseconds; a test would)."""
    page.evaluate("""() => {
        window.sendFormSettled = false;
        document.body.addEventListener("htmx:afterSettle", function done(event) {
            if (event.target.id === "send-form") {
                window.sendFormSettled = true;
                document.body.removeEventListener("htmx:afterSettle", done);
            }
        });
    }""")
    change()
    page.wait_for_function("() => window.sendFormSettled")


def test_choosing_a_companion_and_e_mail_redraws_the_form_with_his_address(
    page, login_as, stay
) -> None:
    login_as("Front desk")
    page.goto(f"/desk/reservations/{stay.pk}/")
    guest = page.get_by_label("Guest", exact=True)
    redrawn(page, lambda: guest.select_option(label="Mehmet Yılmaz (companion)"))
    expect(page.get_by_label("Phone number")).to_have_value("+90 533 987 65 43")
    redrawn(page, lambda: guest.select_option(label="Ayşe Yılmaz (booker)"))
    expect(page.get_by_label("Phone number")).to_have_value("+90 532 123 45 67")
    redrawn(page, lambda: page.get_by_label("Channel").select_option("email"))
    expect(page.get_by_label("E-mail address")).to_have_value("ayse.yilmaz@example.com")
    expect(page.get_by_label("Subject")).to_be_visible()


def test_the_front_desk_keeps_a_guests_consent_and_greylist(
    page, login_as, screenshot, stay
) -> None:
    user = login_as("Front desk")
    booker = stay.booker
    earlier = timezone.now() - dt.timedelta(days=40)
    guest_record_consent(
        guest=booker,
        purpose=ConsentPurpose.DATA_PROCESSING,
        granted=True,
        source=ConsentSource.BOOKING,
        wording_version="2025-06",
        at=earlier,
    )
    guest_record_consent(
        guest=booker,
        purpose=ConsentPurpose.MARKETING,
        channel="email",
        granted=True,
        source=ConsentSource.BOOKING,
        wording_version="2025-06",
        at=earlier,
    )
    guest_record_consent(
        guest=booker,
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.BOOKING,
        wording_version="2025-06",
        at=earlier,
    )
    message_send(
        steps=Step(channel="sms", text="Your booking TUI-88412 is confirmed. See you soon!"),
        guest=booker,
        reservation=stay,
    )
    InboundMessage.objects.create(
        account=OutboundMessage.objects.get().account,
        channel="sms",
        provider_message_id="in-1",
        from_number=booker.phone,
        guest=booker,
        body="Can we have a late check-out?",
    )
    Guest.objects.create(
        first_name="Ayse",
        last_name="Yilmaz",
        phone=booker.phone,
        phone_valid=True,
        email="ayse@booking-relay.example",
        language="tr",
    )

    page.goto(f"/desk/reservations/{stay.pk}/")
    page.get_by_role("link", name="Ayşe Yılmaz").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ayşe Yılmaz")

    consent = page.locator("#consent-form")
    consent.get_by_label("Purpose").select_option("marketing")
    consent.get_by_label("Channel").select_option("sms")
    consent.get_by_label("Withdrawn").check()
    consent.get_by_label("How the guest told us").select_option("staff")
    consent.get_by_label("Note").fill("Asked at check-in: no more SMS offers")
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".flash")).to_contain_text("Marketing messages (SMS): consent withdrawn")
    record = ConsentRecord.objects.get(purpose="marketing", channel="sms", granted=False)
    assert (record.source, record.recorded_by_id) == ("staff", user.pk)

    page.get_by_label("Reason").fill("Shouted at the pool staff")
    page.get_by_role("button", name="Greylist", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("is greylisted")
    expect(page.locator("#greylist")).to_contain_text("Shouted at the pool staff")
    assert GreylistEntry.objects.get().created_by_id == user.pk

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Can we have a late check-out?")
    expect(timeline).to_contain_text("Your booking TUI-88412 is confirmed")
    expect(page.locator("#duplicates")).to_contain_text("Ayse Yilmaz")
    screenshot("frontdesk-guest")
