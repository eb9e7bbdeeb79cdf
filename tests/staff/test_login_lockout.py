"""Staff and admin logins lock after repeated wrong passwords, per user and per client (django-axes)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def user():
    return get_user_model().objects.create_user(
        "frontdesk", password=PASSWORD, is_staff=True, is_superuser=True
    )


def _login(client: Client, url: str, password: str, username: str = "frontdesk", **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_twenty_wrong_passwords_then_the_right_one_is_refused(user, url_name: str) -> None:
    client = Client()
    url = reverse(url_name)
    for _ in range(20):
        response = _login(client, url, "wrong")
        assert response.status_code in (200, 429)
    response = _login(client, url, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Login locked" in page and 'class="topbar"' in page  # the staff layout
    assert "15 minutes" in page


def test_the_lock_is_per_user_from_any_address(user) -> None:
    for n in range(5):
        _login(Client(), reverse("login"), "wrong", REMOTE_ADDR=f"10.0.0.{n}")
    response = _login(Client(), reverse("login"), PASSWORD, REMOTE_ADDR="10.0.0.99")
    assert response.status_code == 429


def test_the_lock_is_per_client_address_across_user_names(user) -> None:
    for n in range(5):
        _login(Client(), reverse("login"), "wrong", username=f"guess{n}", REMOTE_ADDR="10.0.0.7")
    response = _login(Client(), reverse("login"), PASSWORD, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429
    assert _login(Client(), reverse("login"), PASSWORD, REMOTE_ADDR="10.0.0.8").status_code == 302


def test_behind_the_proxy_the_address_the_proxy_saw_counts(user, settings) -> None:
    settings.TRUSTED_PROXIES = 1
    for n in range(5):
        _login(
            Client(),
            reverse("login"),
            "wrong",
            username=f"guess{n}",
            REMOTE_ADDR="172.18.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.9",  # forged left part, real right
        )
    assert AccessAttempt.objects.filter(ip_address="203.0.113.9").count() == 5
    response = _login(
        Client(),
        reverse("login"),
        PASSWORD,
        REMOTE_ADDR="172.18.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 429


def test_the_lock_ends_after_the_cool_off(user) -> None:
    for _ in range(5):
        _login(Client(), reverse("login"), "wrong")
    assert _login(Client(), reverse("login"), PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert _login(Client(), reverse("login"), PASSWORD).status_code == 302


def test_a_manager_unlocks_with_a_command(user) -> None:
    for _ in range(5):
        _login(Client(), reverse("login"), "wrong")
    assert _login(Client(), reverse("login"), PASSWORD).status_code == 429
    call_command("axes_reset_username", "frontdesk")
    call_command("axes_reset_ip", "127.0.0.1")
    assert _login(Client(), reverse("login"), PASSWORD).status_code == 302


def test_a_right_password_before_the_limit_logs_in_and_resets_the_count(user) -> None:
    for _ in range(4):
        _login(Client(), reverse("login"), "wrong")
    assert _login(Client(), reverse("login"), PASSWORD).status_code == 302
    for _ in range(4):
        _login(Client(), reverse("login"), "wrong")
    assert _login(Client(), reverse("login"), PASSWORD).status_code == 302
