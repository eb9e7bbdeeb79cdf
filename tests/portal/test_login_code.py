"""Signing in with a code by SMS (P1): right, wrong, reused, expired; stored only as a hash."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_out.backends import locmem
from channels_out.models import OutboundMessage
from guests.models import ConsentRecord
from interfaces.portal import conf
from interfaces.portal.codes import code_hash
from interfaces.portal.models import LoginCode
from interfaces.portal.session import SESSION_KEY

from .conftest import PHONE, ask_for_code, code_in, enter_code, sms_to

pytestmark = pytest.mark.django_db


def _signed_in(client) -> bool:
    return client.get(reverse("portal:home")).status_code == 200


def test_the_right_code_signs_the_guest_in(client, sending, stay) -> None:
    response = ask_for_code(client, "0532 123 45 67")  # the hotel's way of writing it works too
    assert response.status_code == 302 and response.url == reverse("portal:login-code")
    code = code_in(sms_to(PHONE)[-1])
    response = enter_code(client, code)
    assert response.status_code == 302 and response.url == reverse("portal:home")
    page = client.get(reverse("portal:home"))
    assert "Welcome, Oliver" in page.content.decode()


def test_the_code_goes_as_a_service_sms_through_the_sender_without_marketing_consent(
    client, sending, stay, django_capture_on_commit_callbacks
) -> None:
    assert not ConsentRecord.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ask_for_code(client)
    message = OutboundMessage.objects.get(channel="sms")
    assert (message.purpose, message.source, message.to, message.status) == (
        "service",
        "portal",
        PHONE,
        "sent",
    )
    assert (
        message.expires_at == LoginCode.objects.get().expires_at
    )  # never sent after it stopped working
    assert [m.pk for m in locmem.outbox] == [message.pk]
    assert "/guest/login/link/" in message.body


def test_only_a_hash_of_the_code_is_stored(client, sending, stay) -> None:
    ask_for_code(client)
    code = code_in(sms_to(PHONE)[-1])
    row = LoginCode.objects.get()
    assert row.code_hash == code_hash(PHONE, code)
    assert code not in row.code_hash
    assert code_hash(PHONE, code) != code_hash("+905321234568", code)  # bound to the number


def test_five_wrong_codes_lock_the_code_even_for_the_right_one(client, sending, stay) -> None:
    ask_for_code(client)
    code = code_in(sms_to(PHONE)[-1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        response = enter_code(client, wrong)
        assert response.status_code == 400
        assert f"{left} more tr" in response.content.decode()
    response = enter_code(client, wrong)
    assert "Too many wrong codes" in response.content.decode()
    response = enter_code(client, code)
    assert response.status_code == 400
    assert "Too many wrong codes" in response.content.decode()
    assert LoginCode.objects.get().attempts == conf.MAX_ATTEMPTS
    assert not _signed_in(client)


def test_the_right_code_still_works_after_four_wrong_ones(client, sending, stay) -> None:
    ask_for_code(client)
    code = code_in(sms_to(PHONE)[-1])
    for _ in range(4):
        enter_code(client, "000000" if code != "000000" else "111111")
    assert enter_code(client, code).status_code == 302
    assert _signed_in(client)


def test_a_used_code_is_refused(client, sending, stay) -> None:
    ask_for_code(client)
    code = code_in(sms_to(PHONE)[-1])
    enter_code(client, code)
    other = Client()  # another browser that knows the code
    session = other.session
    session["portal_login_phone"] = PHONE
    session.save()
    response = enter_code(other, code)
    assert response.status_code == 400
    assert "already been used" in response.content.decode()
    assert not _signed_in(other)


def test_a_code_works_until_ten_minutes_and_not_after(client, sending, stay) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ask_for_code(client)
    code = code_in(sms_to(PHONE)[-1])
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        response = enter_code(client, code)
    assert response.status_code == 400
    assert "expired" in response.content.decode()

    with time_machine.travel(start + dt.timedelta(minutes=11), tick=False):
        ask_for_code(client)
    code = code_in(sms_to(PHONE)[-1])
    with time_machine.travel(start + dt.timedelta(minutes=20, seconds=59), tick=False):
        assert enter_code(client, code).status_code == 302


def test_only_the_newest_code_of_a_number_counts(client, sending, stay) -> None:
    ask_for_code(client)
    first = code_in(sms_to(PHONE)[-1])
    ask_for_code(client)
    second = code_in(sms_to(PHONE)[-1])
    if first != second:
        assert enter_code(client, first).status_code == 400
    assert enter_code(client, second).status_code == 302


def test_the_code_page_needs_a_number_first(client, db) -> None:
    response = client.get(reverse("portal:login-code"))
    assert response.status_code == 302 and response.url == reverse("portal:login")


def test_a_malformed_code_is_refused_without_using_a_try(client, sending, stay) -> None:
    ask_for_code(client)
    response = enter_code(client, "12ab")
    assert response.status_code == 400
    assert "6-digit code" in response.content.decode()
    assert LoginCode.objects.get().attempts == 0


def test_the_guest_session_is_separate_from_staff_authentication(signed_in) -> None:
    assert signed_in.session.get("_auth_user_id") is None
    assert signed_in.session[SESSION_KEY]
    response = signed_in.get(reverse("staff:home"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_guest_session_ends_after_its_own_lifetime(signed_in, settings) -> None:
    settings.PORTAL_SESSION_HOURS = 2
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2, seconds=1)):
        response = signed_in.get(reverse("portal:home"))
    assert response.status_code == 302 and response.url == reverse("portal:login")


def test_signing_out_ends_the_guest_session(signed_in) -> None:
    response = signed_in.post(reverse("portal:logout"))
    assert response.status_code == 302
    assert signed_in.get(reverse("portal:home")).status_code == 302
