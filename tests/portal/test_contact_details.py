"""The guest confirms his contact details (P2, G5): relay addresses, confirmation links, known addresses."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guests.contacts import is_ota_relay_email
from guests.models import Guest, GuestMerge
from guests.selectors import guest_find_duplicates
from guests.services import guest_merge
from interfaces.portal.models import EmailConfirmation
from interfaces.portal.selectors import email_state, relay_portal_name
from tests.factories import GuestFactory

from .conftest import PHONE, RELAY, code_in, emails_to, sms_to

pytestmark = pytest.mark.django_db
REAL = "oliver.brown@example.org"


def _save(client: Client, **fields: str):
    data = {"email": REAL, "phone": "+905321234567", "language": "en", **fields}
    return client.post(reverse("portal:contact"), data)


def _confirm(path: str) -> Any:
    """Follow a confirmation link from a mail app: no cookies, the page, then its button."""
    visitor = Client()
    assert visitor.get(path).status_code == 200
    return visitor.post(path)


def _confirmation_path(address: str = REAL) -> str:
    mail = emails_to(address)[-1]
    found = re.search(r"https?://\S+/guest/email/confirm/\S+/", mail.body)
    assert found, mail.body
    assert found.group(0) in mail.html_body
    return urlsplit(found.group(0)).path


@pytest.mark.parametrize(
    ("email", "relay"),
    [
        (RELAY, True),
        ("abc@m.expediapartnercentral.com", True),
        ("someone@GUEST.AIRBNB.COM", True),
        ("me@booking.com", False),  # the company's own mail, not the relay
        ("oliver@example.org", False),
    ],
)
def test_relay_addresses_are_recognised(email: str, relay: bool) -> None:
    assert is_ota_relay_email(email) is relay


def test_the_page_flags_the_relay_address_and_asks_for_a_real_one(signed_in, guest) -> None:
    page = signed_in.get(reverse("portal:home")).content.decode()
    assert 'data-state="relay"' in page
    assert f"{RELAY}, is a relay address of booking.com" in page
    assert f'value="{RELAY}"' not in page  # not offered as his own
    assert email_state(guest) == "relay"
    assert relay_portal_name(RELAY) == "booking.com"


def test_a_real_address_gets_a_confirmation_link_and_stays_unconfirmed_until_followed(
    signed_in, guest
) -> None:
    response = _save(signed_in)
    assert response.status_code == 302
    guest.refresh_from_db()
    assert (guest.email, guest.email_verified) == (RELAY, False)  # unchanged until confirmed
    mail = emails_to(REAL)[-1]
    assert (mail.purpose, mail.source, mail.guest_id) == ("service", "portal", guest.pk)
    assert "Please confirm your e-mail address" in mail.subject
    page = signed_in.get(reverse("portal:home")).content.decode()
    assert 'data-state="pending"' in page and REAL in page


def test_following_the_link_verifies_the_address(signed_in, guest) -> None:
    _save(signed_in)
    response = _confirm(_confirmation_path())  # from the mail app: no sign-in needed
    assert response.status_code == 200
    assert f"{REAL} is confirmed as your e-mail address" in response.content.decode()
    guest.refresh_from_db()
    assert (guest.email, guest.email_verified) == (REAL, True)
    page = signed_in.get(reverse("portal:home")).content.decode()
    assert 'data-state="verified"' in page


def test_following_the_link_again_changes_nothing(signed_in, guest) -> None:
    _save(signed_in)
    path = _confirmation_path()
    _confirm(path)
    updated = Guest.objects.get(pk=guest.pk).updated_at
    assert _confirm(path).status_code == 200
    assert Guest.objects.get(pk=guest.pk).updated_at == updated


def test_a_tampered_or_expired_link_is_refused(signed_in, guest) -> None:
    _save(signed_in)
    path = _confirmation_path()
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = reverse("portal:confirm-email", args=[token[:-1] + "x"])
    assert Client().get(tampered).status_code == 400
    assert Client().post(tampered).status_code == 400
    with time_machine.travel(timezone.now() + dt.timedelta(days=3, minutes=1)):
        assert Client().get(path).status_code == 400
        assert Client().post(path).status_code == 400
    guest.refresh_from_db()
    assert not guest.email_verified


def test_an_older_link_is_replaced_by_a_newer_one(signed_in, guest) -> None:
    _save(signed_in, email="typo@example.org")
    old = _confirmation_path("typo@example.org")
    _save(signed_in)
    response = Client().post(old)
    assert response.status_code == 400
    assert "replaced by a newer one" in response.content.decode()
    assert _confirm(_confirmation_path()).status_code == 200


def test_saving_the_same_pending_address_sends_no_second_mail_unless_asked(
    signed_in, guest
) -> None:
    _save(signed_in)
    _save(signed_in, language="de")
    assert len(emails_to(REAL)) == 1
    _save(signed_in, resend="1")
    assert len(emails_to(REAL)) == 2


def test_a_relay_address_is_refused_as_the_new_one(signed_in, guest) -> None:
    response = _save(signed_in, email="other@guest.booking.com")
    assert response.status_code == 400
    assert "relay address of your booking portal" in response.content.decode()
    assert not EmailConfirmation.objects.exists()


def test_the_flagged_relay_address_sent_back_as_it_was_does_not_block_other_changes(
    signed_in, guest
) -> None:
    response = _save(signed_in, email=RELAY, language="de")
    assert response.status_code == 302
    guest.refresh_from_db()
    assert guest.language == "de"
    assert not EmailConfirmation.objects.exists()


def test_a_get_of_the_link_only_shows_a_button(signed_in, guest) -> None:
    """A mail scanner or a link preview fetches the link: that confirms nothing."""
    _save(signed_in)
    page = Client().get(_confirmation_path())
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()
    guest.refresh_from_db()
    assert (guest.email, guest.email_verified) == (RELAY, False)
    assert EmailConfirmation.objects.get().confirmed_at is None


def test_the_language_is_saved_at_once_and_a_new_phone_waits_for_its_code(signed_in, guest) -> None:
    _save(signed_in, email="", phone="0532 765 43 21", language="tr")
    guest.refresh_from_db()
    assert (guest.phone, guest.language) == (PHONE, "tr")
    code = code_in(sms_to("+905327654321")[-1])
    assert "http" not in sms_to("+905327654321")[-1]  # a code to confirm, no sign-in link
    page = signed_in.get(reverse("portal:home")).content.decode()
    assert 'data-state="phone-pending"' in page
    response = signed_in.post(reverse("portal:confirm-phone"), {"code": code})
    assert response.status_code == 302
    guest.refresh_from_db()
    assert (guest.phone, guest.phone_valid) == ("+905327654321", True)


def test_a_wrong_phone_code_changes_nothing_and_the_tries_are_limited(signed_in, guest) -> None:
    _save(signed_in, email="", phone="+905327654321")
    code = code_in(sms_to("+905327654321")[-1])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = signed_in.post(reverse("portal:confirm-phone"), {"code": wrong})
        assert response.status_code == 400
    response = signed_in.post(reverse("portal:confirm-phone"), {"code": code})
    assert response.status_code == 400
    assert "Too many wrong codes" in response.content.decode()
    guest.refresh_from_db()
    assert guest.phone == PHONE


def test_phone_codes_keep_to_the_hourly_limit_per_number(signed_in, guest) -> None:
    for _ in range(3):
        _save(signed_in, email="", phone="+905327654321", resend="1")
    response = _save(signed_in, email="", phone="+905327654321", resend="1")
    assert response.status_code == 400
    assert "Too many codes" in response.content.decode()
    assert len(sms_to("+905327654321")) == 3


def test_a_code_for_a_new_phone_does_not_sign_in_with_that_phone(signed_in, guest) -> None:
    _save(signed_in, email="", phone="+905327654321")
    code = code_in(sms_to("+905327654321")[-1])
    visitor = Client()
    session = visitor.session
    session["portal_login_phone"] = "+905327654321"
    session.save()
    response = visitor.post(reverse("portal:login-code"), {"code": code})
    assert response.status_code == 400


def test_an_invalid_phone_is_refused_with_a_message(signed_in, guest) -> None:
    response = _save(signed_in, phone="12")
    assert response.status_code == 400
    assert "not a valid phone number" in response.content.decode()


def test_another_guests_address_is_no_takeover(signed_in, guest, stay) -> None:
    """Sign in as A, give B's verified address, the link is fetched and posted without A's
    cookies, then A gives a new phone: B's profile and phone stay as they were, nothing is
    merged, A's session stays on A, and staff see the two profiles as duplicates."""
    victim = GuestFactory(
        first_name="Maria",
        last_name="Keller",
        email=REAL,
        email_verified=True,
        phone="+905329998877",
        phone_valid=True,
        stay_count=2,
    )
    before = Guest.objects.filter(pk=victim.pk).values().get()
    _save(signed_in)
    assert _confirm(_confirmation_path()).status_code == 200
    assert not GuestMerge.objects.exists()
    assert Guest.objects.filter(pk=guest.pk).exists()
    page = signed_in.get(reverse("portal:home"))
    assert page.status_code == 200 and page.context["guest"].pk == guest.pk
    _save(signed_in, email="", phone="+905321112233")
    assert Guest.objects.filter(pk=victim.pk).values().get() == before
    guest.refresh_from_db()
    assert guest.phone == PHONE  # not until the code texted to the new number is entered
    assert signed_in.get(reverse("portal:home")).context["guest"].pk == guest.pk
    assert victim in guest_find_duplicates(guest)
    staff_page_hint = list(guest_find_duplicates(victim))
    assert [g.pk for g in staff_page_hint] == [guest.pk]


def test_a_session_is_signed_out_when_staff_merge_its_profile_away(signed_in, guest) -> None:
    other = GuestFactory(first_name="Oliver", last_name="Brown", email=REAL, email_verified=True)
    guest_merge(source=guest, target=other, reason="test")
    response = signed_in.get(reverse("portal:home"))
    assert response.status_code == 302 and response.url == reverse("portal:login")


def test_the_page_shows_the_stay_and_the_hotel(signed_in, stay) -> None:
    from guests.models import Hotel

    Hotel.objects.filter(pk=1).update(
        name="Hotel Lykia Bay", phone="+902423334455", email="info@lykia.example"
    )
    page = signed_in.get(reverse("portal:home")).content.decode()
    assert stay.number in page
    assert "Bed &amp; breakfast" in page
    assert (
        "Hotel Lykia Bay" in page and "info@lykia.example" in page and "+90 242 333 44 55" in page
    )


def test_a_refused_change_saves_nothing_and_keeps_the_page_language(signed_in, guest) -> None:
    response = _save(signed_in, email="x@guest.booking.com", language="de", phone="+905327654321")
    assert response.status_code == 400
    assert response["Content-Language"] == "en"
    guest.refresh_from_db()
    assert (guest.language, guest.phone) == ("en", "+905321234567")


def test_a_suppressed_address_gets_its_confirmation_and_confirming_lifts_it(
    signed_in, guest
) -> None:
    """E2: a bounced address is mailed again once the guest proves in the portal it works."""
    from channels_out.models import Suppression
    from channels_out.services import suppression_add

    suppression_add(address=REAL.upper(), reason="hard_bounce")
    _save(signed_in)
    assert emails_to(REAL)[-1].status != "skipped"  # the link he asked for still goes

    _confirm(_confirmation_path())

    suppression = Suppression.objects.get()
    assert suppression.cleared_at is not None
    assert suppression.cleared_via == "portal" and suppression.clear_reason == ""
    assert "confirmed" in suppression.clear_reason_text
