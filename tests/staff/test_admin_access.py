"""Who may open the admin, export the send log and see the balance in the live counter."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from interfaces.staff.roles import FRONT_DESK, MANAGER, MARKETING, OPERATOR, sync_roles

pytestmark = pytest.mark.django_db


def _client(role: str | None, *, superuser: bool = False) -> Client:
    """A signed-in member of staff as ``manage.py setup_roles`` makes them (``is_staff`` on)."""
    sync_roles()
    user = get_user_model().objects.create_user(
        (role or "root").lower().replace(" ", ""),
        password="pw",
        is_staff=True,
        is_superuser=superuser,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [FRONT_DESK, MARKETING, OPERATOR])
def test_other_roles_do_not_get_the_admin(role: str) -> None:
    client = _client(role)
    for url in (
        reverse("admin:index"),
        reverse("admin:channels_out_outboundmessage_changelist"),
        reverse("admin:guests_guest_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("admin:login")), url


@pytest.mark.parametrize(("role", "superuser"), [(MANAGER, False), (None, True)])
def test_managers_and_superusers_get_the_admin(role: str | None, superuser: bool) -> None:
    client = _client(role, superuser=superuser)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:channels_out_outboundmessage_changelist")).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"), [(FRONT_DESK, 403), (MARKETING, 403), (OPERATOR, 200), (MANAGER, 200)]
)
def test_the_send_log_csv_needs_the_operator_or_manager_permission(role: str, status: int) -> None:
    client = _client(role)
    assert client.get(reverse("channels_out:message-export")).status_code == status
    listing = client.get(reverse("channels_out:message-list")).content.decode()
    assert (reverse("channels_out:message-export") in listing) is (status == 200)


@pytest.mark.parametrize(
    ("role", "status"), [(OPERATOR, 403), (FRONT_DESK, 200), (MARKETING, 200), (MANAGER, 200)]
)
def test_the_counter_shows_the_balance_only_to_those_who_write_messages(
    role: str, status: int, accounts: Any, top_up: Any
) -> None:
    top_up(123)
    response = _client(role).post(
        reverse("channels_out:meter"), {"text": "Hello", "channel": "sms"}
    )
    assert response.status_code == status
    assert ("123" in response.content.decode()) is (status == 200)
