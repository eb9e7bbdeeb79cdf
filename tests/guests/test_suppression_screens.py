"""Suppressed addresses (E2) on the guest page, cleared by staff with a POST, in the exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from channels_out.models import SkipReason, Suppression
from channels_out.services import Step, message_send, suppression_add
from guests.models import Guest
from guests.services import guest_record_consent
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def guest(db) -> Guest:
    guest = GuestFactory(first_name="Ayşe", email="Ayse@Example.com")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="email", granted=True, source="staff"
    )
    return guest


@pytest.fixture
def suppressed(guest) -> Suppression:
    return suppression_add(
        address=guest.email,
        reason="hard_bounce",
        provider_code="5.1.1",
        description="mailbox does not exist",
    )


def staff(client, django_user_model, role: str):
    sync_roles()
    user = django_user_model.objects.create_user(role.lower().replace(" ", ""))
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def clear_url(guest: Guest, suppression: Suppression) -> str:
    return reverse("guests:suppression-clear", args=[guest.pk, suppression.pk])


def test_the_guest_page_shows_the_suppression_and_front_desk_clears_it_with_a_post(
    client, django_user_model, guest, suppressed, accounts
) -> None:
    user = staff(client, django_user_model, "Front desk")
    page = client.get(reverse("guests:guest-detail", args=[guest.pk])).content.decode()
    assert "ayse@example.com" in page and "5.1.1" in page
    assert clear_url(guest, suppressed) in page

    assert client.get(clear_url(guest, suppressed)).status_code == 405  # a link changes nothing
    response = client.post(clear_url(guest, suppressed), {"reason": "guest called: fixed"})

    assert response.status_code == 302
    suppressed.refresh_from_db()
    assert suppressed.cleared_by == user and suppressed.clear_reason == "guest called: fixed"
    entry = LogEntry.objects.get(object_id=str(suppressed.pk))
    assert entry.user == user and "Cleared the suppression" in entry.change_message
    message = message_send(
        steps=Step(channel="email", subject="Hello", text="Hi"), purpose="marketing", guest=guest
    )
    assert message.status == "queued"


def test_staff_without_the_permission_cannot_clear(
    client, django_user_model, guest, suppressed, accounts
) -> None:
    staff(client, django_user_model, "Marketing")
    page = client.get(reverse("guests:guest-detail", args=[guest.pk]))
    assert clear_url(guest, suppressed) not in page.content.decode()
    assert client.post(clear_url(guest, suppressed)).status_code == 403
    suppressed.refresh_from_db()
    assert suppressed.in_force
    skipped = message_send(
        steps=Step(channel="email", subject="Hello", text="Hi"), purpose="marketing", guest=guest
    )
    assert skipped.skip_reason == SkipReason.SUPPRESSED


def test_another_guests_suppression_cannot_be_cleared_through_this_page(
    client, django_user_model, guest, suppressed
) -> None:
    staff(client, django_user_model, "Front desk")
    other = GuestFactory(email="other@example.com")
    assert client.post(clear_url(other, suppressed)).status_code == 404
    suppressed.refresh_from_db()
    assert suppressed.in_force


def _rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_exports_leave_suppressed_addresses_out_and_list_them_in_the_consent_history(
    client, django_user_model, guest, suppressed
) -> None:
    user = django_user_model.objects.create_user("manager")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="portal", codename__startswith="export_")
    )
    client.force_login(user)
    kept = GuestFactory(email="kept@example.com")
    guest_record_consent(
        guest=kept, purpose="marketing", channel="email", granted=True, source="staff"
    )

    newsletter = _rows(client.get(reverse("exports:newsletter")))
    assert [r["Email Address"] for r in newsletter] == ["kept@example.com"]
    history = _rows(client.get(reverse("exports:consents", args=[guest.pk])))
    assert [(r["Purpose"], r["Granted"], r["Source"]) for r in history] == [
        ("Marketing messages", "yes", "Staff"),
        ("E-mail suppression", "no", "Hard bounce"),
    ]
