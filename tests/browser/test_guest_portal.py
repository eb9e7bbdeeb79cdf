"""A guest from a booking portal signs in with his phone and confirms his own e-mail (P1, P2)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from channels_out.backends import locmem
from guests.models import Guest, Hotel
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = "+905321234567"
REAL = "oliver.brown@example.org"


def _sent(channel: str, to: str) -> str:
    bodies = [m.body for m in locmem.outbox if m.channel == channel and m.to == to]
    assert bodies, (
        f"nothing sent by {channel} to {to}: {[(m.channel, m.to) for m in locmem.outbox]}"
    )
    return bodies[-1]


def test_a_guest_signs_in_by_phone_and_confirms_his_real_email(
    page, screenshot, accounts, top_up
) -> None:
    top_up(20)
    Hotel.objects.update_or_create(
        pk=1,
        defaults={
            "name": "Hotel Lykia Bay",
            "address": "Çalış Mah. 12\n48300 Fethiye / Muğla",
            "phone": "+902526141234",
            "email": "welcome@lykiabay.example",
            "website": "https://lykiabay.example",
        },
    )
    guest = GuestFactory(
        first_name="Oliver",
        last_name="Brown",
        phone=PHONE,
        email="x7kq2m9@guest.booking.com",
        language="en",
        nationality="GB",
    )
    arrival = timezone.localdate() + dt.timedelta(days=6)
    ReservationFactory(
        booker=guest,
        arrival=arrival,
        departure=arrival + dt.timedelta(days=7),
        adults=2,
        children=1,
    )

    page.goto("/guest/login/")
    page.get_by_label("Mobile phone number").fill("+90 532 123 45 67")
    screenshot("guest-login")
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url("**/guest/login/code/")

    code = re.search(r"\b(\d{6})\b", _sent("sms", PHONE)).group(1)
    page.get_by_label("Code from the text message").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/guest/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Oliver"

    relay = page.locator('[data-state="relay"]')
    assert relay.is_visible()
    assert "relay address of booking.com" in relay.inner_text()

    page.get_by_role("textbox", name="E-mail", exact=True).fill(REAL)
    page.get_by_role("button", name="Save my details").click()
    page.wait_for_url("**/guest/")
    assert page.locator('[data-state="pending"]').is_visible()

    link = re.search(r"https?://\S+/guest/email/confirm/\S+/", _sent("email", REAL)).group(0)
    page.goto(link)  # opening the link only shows a button: a mail scanner confirms nothing
    page.get_by_role("button", name="Confirm my e-mail address").click()
    assert f"{REAL} is confirmed as your e-mail address." in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="Back to your page").click()
    page.wait_for_url("**/guest/")

    verified = page.locator('[data-state="verified"]')
    assert verified.is_visible()
    assert f"{REAL} is confirmed." in verified.inner_text()
    guest.refresh_from_db()
    assert (guest.email, guest.email_verified) == (REAL, True)
    assert Guest.objects.count() == 1
    screenshot("guest-page")


def test_a_guest_unsubscribes_from_the_link_and_opts_back_in_in_his_language(
    page, screenshot
) -> None:
    from guests.selectors import consent_current
    from guests.services import guest_record_consent
    from interfaces.portal.links import unsubscribe_url

    Hotel.objects.update_or_create(pk=1, defaults={"name": "Hotel Lykia Bay"})
    guest = GuestFactory(first_name="Ayşe", language="tr", email="ayse@example.com")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="email", granted=True, source="staff"
    )

    page.goto(unsubscribe_url(guest, "email"))  # opening the link only asks
    assert page.get_by_role("heading", level=1).inner_text() == "Aboneliği iptal et"
    assert consent_current(guest)[("marketing", "email")].granted is True
    page.get_by_role("button", name="Aboneliği iptal et").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Aboneliğiniz iptal edildi"
    assert (
        "Artık E-posta ile kampanya ve haber almayacaksınız."
        in page.get_by_role("status").inner_text()
    )
    assert consent_current(guest)[("marketing", "email")].granted is False
    screenshot("guest-unsubscribe")

    page.get_by_role("button", name="Yeniden abone ol").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tekrar hoş geldiniz"
    record = consent_current(guest)[("marketing", "email")]
    assert (record.granted, record.source) == (True, "unsubscribe_link")


def test_the_one_click_link_signs_in_under_the_content_security_policy(
    page, accounts, top_up
) -> None:
    """The link's page submits itself with a script from static/ (no inline script)."""
    top_up(5)
    guest = GuestFactory(first_name="Oliver", phone=PHONE, language="en")
    arrival = timezone.localdate() + dt.timedelta(days=2)
    ReservationFactory(booker=guest, arrival=arrival, departure=arrival + dt.timedelta(days=3))
    page.goto("/guest/login/")
    page.get_by_label("Mobile phone number").fill(PHONE)
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url("**/guest/login/code/")
    link = re.search(r"https?://\S+/guest/login/link/\S+/", _sent("sms", PHONE)).group(0)
    page.goto(link)  # the page fixture fails the test on any policy violation
    page.wait_for_url("**/guest/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Oliver"
