"""A suppression lifted without a reason (E2) reads in the reader's language: what is stored
is who lifted it, never words in the clearer's language."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from channels_out.models import Suppression, SuppressionCleared
from channels_out.services import suppression_add, suppressions_clear_confirmed
from guests.models import Guest
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("channels_out.migrations.0017_suppression_cleared_via")


@pytest.fixture
def guest(db) -> Guest:
    return GuestFactory(first_name="Ayşe", email="ayse@example.com")


def front_desk(client, django_user_model, name: str, language: str):
    sync_roles()
    user = django_user_model.objects.create_user(name)
    user.groups.add(Group.objects.get(name="Front desk"))
    client.force_login(user)
    client.cookies["django_language"] = language
    return user


def guest_page(client, guest: Guest) -> str:
    return client.get(reverse("guests:guest-detail", args=[guest.pk])).content.decode()


def test_a_turkish_clearing_reads_in_english_for_an_english_colleague(
    client, django_user_model, guest
) -> None:
    suppression = suppression_add(address=guest.email, reason="hard_bounce")
    front_desk(client, django_user_model, "selin", "tr")
    url = reverse("guests:suppression-clear", args=[guest.pk, suppression.pk])
    assert client.post(url, {"reason": ""}).status_code == 302
    suppression.refresh_from_db()
    assert (suppression.cleared_via, suppression.clear_reason) == (SuppressionCleared.STAFF, "")
    assert "personel kaldırdı" in guest_page(client, guest)

    front_desk(client, django_user_model, "john", "en")
    page = guest_page(client, guest)
    assert "cleared by staff" in page and "personel kaldırdı" not in page


def test_a_reason_staff_typed_is_shown_as_typed_in_both_languages(
    client, django_user_model, guest
) -> None:
    suppression = suppression_add(address=guest.email, reason="hard_bounce")
    front_desk(client, django_user_model, "selin", "tr")
    url = reverse("guests:suppression-clear", args=[guest.pk, suppression.pk])
    client.post(url, {"reason": "misafir aradı"})
    for language in ("tr", "en"):
        client.cookies["django_language"] = language
        page = guest_page(client, guest)
        assert "misafir aradı" in page
        assert "cleared by staff" not in page and "personel kaldırdı" not in page


def test_a_portal_confirmation_reads_in_the_readers_language(
    client, django_user_model, guest
) -> None:
    suppression_add(address=guest.email, reason="hard_bounce")
    assert suppressions_clear_confirmed(address=guest.email) == 1
    front_desk(client, django_user_model, "john", "en")
    assert "the guest confirmed the address in the portal" in guest_page(client, guest)
    client.cookies["django_language"] = "tr"
    page = guest_page(client, guest)
    assert "misafir adresi portalda doğruladı" in page
    assert "the guest confirmed the address in the portal" not in page


def test_words_older_versions_stored_become_who_cleared(django_user_model, guest) -> None:
    user = django_user_model.objects.create_user("selin")
    old = [
        ("personel kaldırdı", user, ""),
        ("cleared by staff", user, ""),
        ("the guest confirmed the address in the portal", None, ""),
        ("guest called", user, ""),
    ]
    for reason, by, via in old:
        row = suppression_add(address=guest.email, reason="hard_bounce")
        Suppression.objects.filter(pk=row.pk).update(
            cleared_at=row.created_at, cleared_by=by, clear_reason=reason, cleared_via=via
        )
    migration.store_who_cleared(apps, None)
    rows = Suppression.objects.order_by("pk").values_list("cleared_via", "clear_reason")
    assert list(rows) == [
        ("staff", ""),
        ("staff", ""),
        ("portal", ""),
        ("staff", "guest called"),
    ]
