"""Managers and superusers sign in with a code from an authenticator app (TOTP, django-otp)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from interfaces.staff.roles import FRONT_DESK, MANAGER, sync_roles

pytestmark = pytest.mark.django_db
PASSWORD = "a long password 4711"
PAGE = reverse("staff:two-factor")


def _member(role: str | None, *, superuser: bool = False):
    sync_roles()
    user = get_user_model().objects.create_user(
        (role or "root").lower().replace(" ", ""),
        password=PASSWORD,
        is_staff=True,
        is_superuser=superuser,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def _sign_in(user) -> Client:
    client = Client()
    response = client.post(
        reverse("login"), {"username": user.get_username(), "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def _code(device: TOTPDevice, *, later: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + later
    return f"{totp.token():06d}"


@pytest.fixture
def required(settings) -> None:
    settings.STAFF_TWO_FACTOR = "required"


@pytest.mark.parametrize(("role", "superuser"), [(MANAGER, False), (None, True)])
def test_a_manager_or_superuser_sets_up_an_app_before_any_screen_opens(
    required, role, superuser
) -> None:
    user = _member(role, superuser=superuser)
    client = _sign_in(user)
    for url in (reverse("staff:home"), reverse("channels_out:message-list"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(PAGE), url
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and 'class="segno"' in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    answer = client.post(PAGE, {"code": _code(device), "next": "/admin/"})
    assert answer.status_code == 302 and answer.url == "/admin/"
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(reverse("staff:home")).status_code == 200
    assert client.get("/admin/").status_code == 200


def test_the_next_sign_in_asks_for_the_code_and_a_code_works_once(required) -> None:
    user = _member(MANAGER)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = _sign_in(user)
    page = client.get(PAGE).content.decode()
    assert "<svg" not in page  # no key shown again once the app is set up
    code = _code(device)
    assert client.post(PAGE, {"code": code}).status_code == 302
    again = _sign_in(user)
    response = again.post(PAGE, {"code": code})  # the same code, replayed
    assert response.status_code == 400
    assert again.get(reverse("staff:home")).status_code == 302


def test_wrong_codes_are_refused_and_slow_down_the_next_try(required) -> None:
    user = _member(MANAGER)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = _sign_in(user)
    response = client.post(PAGE, {"code": "000000" if _code(device) != "000000" else "111111"})
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    refused = client.post(PAGE, {"code": _code(device)})  # at once: throttled
    assert refused.status_code == 400
    assert "Too many wrong codes" in refused.content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=31)):
        device.refresh_from_db()
        assert client.post(PAGE, {"code": _code(device)}).status_code == 302


def test_other_roles_are_not_asked(required) -> None:
    client = _sign_in(_member(FRONT_DESK))
    assert client.get(reverse("staff:home")).status_code == 200
    assert client.get(PAGE).status_code == 302


def test_optional_mode_asks_only_those_who_set_up_an_app(settings) -> None:
    settings.STAFF_TWO_FACTOR = "optional"
    without = _member(MANAGER)
    assert _sign_in(without).get(reverse("staff:home")).status_code == 200
    with_app = _member(None, superuser=True)
    TOTPDevice.objects.create(user=with_app, name="phone", confirmed=True)
    client = _sign_in(with_app)
    assert client.get(reverse("staff:home")).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_the_set_up_page_shows_the_key_to_type_in(required) -> None:
    user = _member(MANAGER)
    client = _sign_in(user)
    html = client.get(PAGE).content.decode()
    device = TOTPDevice.objects.get(user=user)
    key = re.search(r"<code>([A-Z2-7 ]+)</code>", html)
    assert key
    assert key.group(1).replace(" ", "") in device.config_url
