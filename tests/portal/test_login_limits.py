"""SMS-pumping and enumeration defences of the phone login (P1)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from channels_out.models import OutboundMessage
from interfaces.portal.models import LoginCode

from .conftest import PHONE, ask_for_code, enter_code, sms_to

pytestmark = pytest.mark.django_db
UNKNOWN = "+905329876543"


def _without_csrf(html: str) -> str:
    return "\n".join(line for line in html.splitlines() if "csrfmiddlewaretoken" not in line)


def test_a_number_gets_at_most_three_codes_an_hour(client, sending, stay, settings) -> None:
    settings.PORTAL_CODES_PER_NUMBER_PER_HOUR = 3
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert ask_for_code(client).status_code == 302
        response = ask_for_code(client)
    assert response.status_code == 400
    assert "Too many codes" in response.content.decode()
    assert len(sms_to(PHONE)) == 3
    with time_machine.travel(start + dt.timedelta(hours=1, seconds=1), tick=False):
        assert ask_for_code(client).status_code == 302
    assert len(sms_to(PHONE)) == 4


def test_a_client_address_may_ask_for_a_limited_number_of_codes(
    client, sending, stay, settings
) -> None:
    settings.PORTAL_CODES_PER_CLIENT_PER_HOUR = 2
    assert ask_for_code(client, "+905321111001", REMOTE_ADDR="203.0.113.9").status_code == 302
    assert ask_for_code(client, "+905321111002", REMOTE_ADDR="203.0.113.9").status_code == 302
    response = ask_for_code(client, PHONE, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 400
    assert "Too many codes" in response.content.decode()
    assert sms_to(PHONE) == []
    assert (
        ask_for_code(client, PHONE, REMOTE_ADDR="198.51.100.7").status_code == 302
    )  # another client
    assert len(sms_to(PHONE)) == 1


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    client, sending, stay, settings
) -> None:
    settings.TRUSTED_PROXIES = 1
    settings.PORTAL_CODES_PER_CLIENT_PER_HOUR = 1
    forwarded = {"REMOTE_ADDR": "10.0.0.2"}
    assert (
        ask_for_code(
            client, PHONE, HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.9", **forwarded
        ).status_code
        == 302
    )
    assert LoginCode.objects.get().client_ip == "203.0.113.9"
    response = ask_for_code(
        client, "+905321111001", HTTP_X_FORWARDED_FOR="other, 203.0.113.9", **forwarded
    )
    assert response.status_code == 400


def test_numbers_of_countries_not_allowed_get_nothing(client, sending, stay, settings) -> None:
    settings.PORTAL_ALLOWED_COUNTRIES = "TR,DE"
    stay.booker.phone = "+447400123456"
    stay.booker.save()
    response = ask_for_code(client, "+44 7400 123456")
    assert response.status_code == 400
    assert "cannot send text messages to this country" in response.content.decode()
    assert not LoginCode.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_the_allowed_countries_default_when_not_set(client, sending, stay, settings) -> None:
    del settings.PORTAL_ALLOWED_COUNTRIES  # not configured: the built-in list
    assert ask_for_code(client, "+2348031234567").status_code == 400  # Nigeria: not on the list
    assert ask_for_code(client).status_code == 302


def test_an_invalid_or_fixed_line_number_is_refused(client, sending, stay) -> None:
    assert "not a valid phone number" in ask_for_code(client, "12345").content.decode()
    assert (
        "cannot receive text messages" in ask_for_code(client, "+90 212 555 12 12").content.decode()
    )
    assert not LoginCode.objects.exists()


def test_an_unknown_number_is_answered_like_a_known_one(client, sending, stay) -> None:
    known = ask_for_code(client, PHONE)
    other = Client()
    unknown = ask_for_code(other, UNKNOWN)
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    known_page = client.get(known.url).content.decode().replace("+90 532 123 45 67", "NUMBER")
    unknown_page = other.get(unknown.url).content.decode().replace("+90 532 987 65 43", "NUMBER")
    assert _without_csrf(known_page) == _without_csrf(unknown_page)
    assert sms_to(UNKNOWN) == []
    assert LoginCode.objects.filter(phone=UNKNOWN, guest__isnull=True, code_hash="").count() == 1


def test_an_unknown_number_gets_the_same_refusals_as_a_known_one(
    client, sending, stay, settings
) -> None:
    settings.PORTAL_CODES_PER_NUMBER_PER_HOUR = 1
    for phone in (PHONE, UNKNOWN):
        ask_for_code(client, phone)
        assert "Too many codes" in ask_for_code(client, phone).content.decode()
    other = Client()
    ask_for_code(other, UNKNOWN)  # refused, but the session still says which number
    session = other.session
    session["portal_login_phone"] = UNKNOWN
    session.save()
    answers = [enter_code(other, "123456").content.decode() for _ in range(6)]
    assert "4 more tries" in answers[0]
    assert "Too many wrong codes" in answers[-1]


def test_a_number_without_a_current_or_upcoming_stay_gets_no_code(client, sending, stay) -> None:
    stay.status = "checked_out"
    stay.save()
    assert ask_for_code(client).status_code == 302
    assert sms_to(PHONE) == []


def test_old_login_codes_are_purged_and_recent_ones_kept(client, sending, stay) -> None:
    from io import StringIO

    from django.core.management import call_command

    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(days=31), tick=False):
        ask_for_code(client)
    ask_for_code(client)
    out = StringIO()
    call_command("purge_login_codes", stdout=out)
    assert "Deleted 1 login code(s) older than 30 day(s)." in out.getvalue()
    assert LoginCode.objects.count() == 1
