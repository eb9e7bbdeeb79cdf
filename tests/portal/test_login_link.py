"""The one-click sign-in link sent with the code (P1): once, only while the code lives, signed."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interfaces.portal.models import LoginCode

from .conftest import PHONE, ask_for_code, code_in, enter_code, link_in, sms_to

pytestmark = pytest.mark.django_db


def _link_path(client: Client) -> str:
    ask_for_code(client)
    url = link_in(sms_to(PHONE)[-1])
    assert url.startswith("http://127.0.0.1:8000/guest/login/link/")  # PUBLIC_BASE_URL
    return urlsplit(url).path


def test_the_link_signs_in_with_one_click(client, sending, stay) -> None:
    path = _link_path(client)
    browser = Client()  # the phone's browser: no session from the login page
    page = browser.get(path)
    assert page.status_code == 200
    assert 'id="one-click"' in page.content.decode()  # submits itself
    assert LoginCode.objects.get().used_at is None  # a link preview that only GETs uses nothing
    response = browser.post(path)
    assert response.status_code == 302 and response.url == reverse("portal:home")
    assert browser.get(reverse("portal:home")).status_code == 200
    assert LoginCode.objects.get().used_via == "link"


def test_the_link_works_once(client, sending, stay) -> None:
    path = _link_path(client)
    Client().post(path)
    again = Client()
    response = again.post(path)
    assert response.status_code == 400
    assert "already been used" in response.content.decode()
    assert again.get(reverse("portal:home")).status_code == 302


def test_the_link_and_the_code_are_one_credential(client, sending, stay) -> None:
    path = _link_path(client)
    assert enter_code(client, code_in(sms_to(PHONE)[-1])).status_code == 302
    assert Client().post(path).status_code == 400


def test_the_link_expires_with_the_code(client, sending, stay) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        path = _link_path(client)
    with time_machine.travel(start + dt.timedelta(minutes=10, seconds=1), tick=False):
        assert Client().get(path).status_code == 400
        response = Client().post(path)
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_a_tampered_link_is_refused(client, sending, stay) -> None:
    path = _link_path(client)
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for tampered in (forged, "1:" + token, "abc"):
        response = Client().post(reverse("portal:login-link", args=[tampered]))
        assert response.status_code == 400
    assert LoginCode.objects.get().used_at is None


def test_a_link_for_an_unknown_number_does_not_exist(client, sending, stay) -> None:
    from interfaces.portal.links import login_link_url

    ask_for_code(client, "+905329876543")
    row = LoginCode.objects.get(phone="+905329876543")
    response = Client().post(urlsplit(login_link_url(row)).path)
    assert response.status_code == 400
