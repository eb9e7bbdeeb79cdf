"""API keys: made by a manager, shown once, stored hashed, scoped, revocable, last use kept."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from rest_framework.test import APIClient

from crm_messaging.ui.once import new_nonce
from interfaces.api.models import ApiKey
from interfaces.api.services import api_key_create, api_key_revoke

from .conftest import problem_of

pytestmark = pytest.mark.django_db
GUEST_URL = "/api/v1/guests/mews:G1"


def test_a_key_is_kept_only_as_a_hash_and_its_prefix() -> None:
    key, raw = api_key_create(name="Mews", scopes=["guests:write"])

    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert raw.startswith(f"crm_{key.prefix}_")
    assert raw not in str(stored)
    assert len(stored["key_hash"]) == 64
    assert key.user.username == "api:Mews"
    assert not key.user.has_usable_password() and not key.user.is_active


def test_a_name_in_use_or_no_scope_is_refused() -> None:
    api_key_create(name="Mews", scopes=["guests:write"])
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as taken:
        api_key_create(name="mews", scopes=["guests:write"])
    with pytest.raises(ValidationError) as scopeless:
        api_key_create(name="Other", scopes=[])
    with pytest.raises(ValidationError) as unknown:
        api_key_create(name="Other", scopes=["guests:delete"])

    assert "name" in taken.value.message_dict
    assert "scopes" in scopeless.value.message_dict and "scopes" in unknown.value.message_dict
    assert ApiKey.objects.count() == 1


def test_a_request_marks_the_key_used(make_client) -> None:
    client, key = make_client()
    assert key.last_used_at is None

    client.put(GUEST_URL, {"first_name": "Ayşe"}, format="json")

    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer crm_abc",
        "Bearer crm_deadbeef_wrong",
        "Bearer a b",
        "Basic dXNlcjpwYXNz",
        "Bearer \u00e9\u00e9",
    ],
)
def test_no_or_a_bad_key_gets_401_problem_details(header: str | None, reference: None) -> None:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))

    response = client.put(GUEST_URL, {"first_name": "Ayşe"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem_of(response)


def test_a_revoked_key_authenticates_nothing(make_client) -> None:
    client, key = make_client()
    api_key_revoke(key=key)

    response = client.put(GUEST_URL, {"first_name": "Ayşe"}, format="json")

    assert response.status_code == 401
    assert "revoked" in problem_of(response)["detail"]


@pytest.fixture
def manager() -> Client:
    user = get_user_model().objects.create_user("boss", password="pw")
    group, _ = Group.objects.get_or_create(name="Keys")
    group.permissions.add(Permission.objects.get(codename="manage_apikey"))
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_makes_a_key_on_the_screen_and_sees_it_once(manager: Client) -> None:
    response = manager.post(
        "/settings/api-keys/",
        {"name": "Mews", "scopes": ["guests:write", "reservations:write"], "nonce": new_nonce()},
    )

    assert response.status_code == 200
    key = ApiKey.objects.get()
    raw = response.context["raw"]
    assert raw.startswith(f"crm_{key.prefix}_") and raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    # the header to configure, whole (a bare "<key>" placeholder was swallowed as an HTML tag)
    assert f"<code>Authorization: Bearer {raw}</code>" in response.content.decode()
    listing = manager.get("/settings/api-keys/").content.decode()
    assert "Mews" in listing and raw not in listing
    assert key.scopes == ["guests:write", "reservations:write"]


def test_a_manager_revokes_a_key_by_post_only(manager: Client) -> None:
    key, _ = api_key_create(name="Mews", scopes=["guests:write"])

    assert manager.get(f"/settings/api-keys/{key.pk}/revoke/").status_code == 405
    response = manager.post(f"/settings/api-keys/{key.pk}/revoke/")

    key.refresh_from_db()
    assert response.status_code == 302
    assert key.revoked_at is not None


def test_staff_without_the_permission_cannot_open_the_keys_screen() -> None:
    user = get_user_model().objects.create_user("desk", password="pw")
    client = Client()
    client.force_login(user)

    assert client.get("/settings/api-keys/").status_code == 403
    assert (
        client.post(
            "/settings/api-keys/", {"name": "X", "scopes": ["guests:write"], "nonce": new_nonce()}
        ).status_code
        == 403
    )
    assert not ApiKey.objects.exists()


def test_the_admin_makes_a_key_and_shows_it_once() -> None:
    admin = get_user_model().objects.create_superuser("root", password="pw")
    client = Client()
    client.force_login(admin)

    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "Booking engine", "scopes": ["messages:send"]},
        follow=True,
    )

    key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert any(f"crm_{key.prefix}_" in m for m in shown)
    assert key.created_by == admin


def test_the_keys_screen_speaks_turkish(manager: Client) -> None:
    manager.cookies["django_language"] = "tr"

    page = manager.get("/settings/api-keys/", HTTP_ACCEPT_LANGUAGE="tr").content.decode()

    assert "API anahtarları" in page and "Anahtarı oluştur" in page


def test_the_admin_revokes_keys_by_its_action() -> None:
    admin = get_user_model().objects.create_superuser("root", password="pw")
    key, _ = api_key_create(name="Old PMS", scopes=["guests:write"])
    client = Client()
    client.force_login(admin)

    client.post(
        "/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )

    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == admin
