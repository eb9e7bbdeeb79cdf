"""What the front desk changes on a guest's page — consent (G6), greylist (G7), duplicates
(G5), the profile — each a POST through its service, recorded with the user, and refused
next to the field when the input is wrong."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from channels_out.models import OutboundMessage
from channels_out.services import Step, message_send
from crm_messaging.ui.once import new_nonce
from guests.models import (
    ConsentRecord,
    GreylistEntry,
    Guest,
    GuestMerge,
    Reservation,
)
from guests.selectors import guest_is_greylisted
from guests.services import guest_greylist
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, django_user_model) -> Callable[..., Any]:
    def as_role(role: str | None) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(
            (role or "nobody").lower().replace(" ", ""), first_name=role or ""
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


@pytest.fixture
def guest(db) -> Guest:
    return GuestFactory(
        first_name="Ayşe", last_name="Yılmaz", phone="+905321234567", email="ayse@example.com"
    )


def url(name: str, guest: Guest, *args: int) -> str:
    return reverse(f"guests:{name}", args=[guest.pk, *args])


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Consent -------------------------------------------------------------------------------------


def test_a_consent_change_is_recorded_with_the_chosen_source_and_the_user(
    client, login, guest
) -> None:
    user = login("Front desk")
    response = client.post(
        url("guest-consent", guest),
        {
            "purpose": "marketing",
            "channel": "whatsapp",
            "granted": "0",
            "source": "guest_portal",
            "wording_version": "2026-01",
            "note": "asked at the desk",
            "nonce": new_nonce(),
        },
        follow=True,
    )
    record = ConsentRecord.objects.get()
    assert (record.guest, record.purpose, record.channel, record.granted) == (
        guest,
        "marketing",
        "whatsapp",
        False,
    )
    assert (record.source, record.recorded_by, record.wording_version) == (
        "guest_portal",
        user,
        "2026-01",
    )
    assert flashes(response) == [
        "Marketing messages (WhatsApp): consent withdrawn, as told via guest portal."
    ]
    assert response.redirect_chain[-1][0].endswith("#consents")


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (
            {"purpose": "marketing", "channel": "", "granted": "1"},
            "channel",
            "Marketing messages consent needs a channel.",
        ),
        (
            {"purpose": "data_processing", "channel": "sms", "granted": "1"},
            "channel",
            "Data-processing consent covers every channel; choose no channel.",
        ),
        (
            {"purpose": "service", "channel": "sms"},
            "granted",
            "Say whether the guest gives or withdraws consent.",
        ),
        (
            {"purpose": "service", "channel": "sms", "granted": "1", "source": "inbound_keyword"},
            "source",
            "Select a valid choice. inbound_keyword is not one of the available choices.",
        ),
    ],
)
def test_a_wrong_consent_statement_is_refused_next_to_the_field(
    client, login, guest, data, field, error
) -> None:
    login("Front desk")
    response = client.post(
        url("guest-consent", guest), {"source": "staff", "nonce": new_nonce(), **data}
    )
    assert response.status_code == 200
    assert response.context["consent_form"].errors[field] == [error]
    assert f'id="consent_{field}_error"' in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_the_consent_form_is_prefilled_from_the_row_chosen(client, login, guest) -> None:
    login("Front desk")
    form = client.get(
        url("guest-detail", guest), {"purpose": "service", "channel": "viber"}
    ).context["consent_form"]
    assert (form.initial["purpose"], form.initial["channel"]) == ("service", "viber")


def test_recording_consent_needs_the_add_permission(client, login, guest) -> None:
    login("Marketing")
    response = client.post(
        url("guest-consent", guest),
        {
            "purpose": "marketing",
            "channel": "sms",
            "granted": "1",
            "source": "staff",
            "nonce": new_nonce(),
        },
    )
    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


# --- Greylist ------------------------------------------------------------------------------------


def test_greylisting_with_a_reason_and_expiry_and_lifting_it(client, login, guest) -> None:
    user = login("Front desk")
    until = (timezone.localtime() + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url("guest-greylist", guest),
        {"reason": "Rude to staff", "expires_at": until, "nonce": new_nonce()},
        follow=True,
    )
    entry = GreylistEntry.objects.get()
    assert (entry.reason, entry.created_by) == ("Rude to staff", user)
    assert entry.expires_at is not None and entry.expires_at > timezone.now() + dt.timedelta(
        days=29
    )
    assert guest_is_greylisted(guest)
    assert flashes(response) == ["Ayşe Yılmaz is greylisted: no marketing messages."]
    assert "Rude to staff" in response.content.decode()

    response = client.post(
        url("greylist-lift", guest, entry.pk), {"reason": "apologised"}, follow=True
    )
    entry.refresh_from_db()
    assert (entry.lifted_by, entry.lift_reason) == (user, "apologised")
    assert not guest_is_greylisted(guest)
    assert flashes(response) == ["The greylist entry “Rude to staff” is lifted."]


def test_greylisting_needs_a_reason_next_to_the_field(client, login, guest) -> None:
    login("Front desk")
    response = client.post(url("guest-greylist", guest), {"reason": " "})
    assert response.context["greylist_form"].errors["reason"] == [
        "Say why the guest is greylisted."
    ]
    assert not GreylistEntry.objects.exists()


def test_an_expiry_in_the_past_is_refused(client, login, guest) -> None:
    login("Front desk")
    response = client.post(
        url("guest-greylist", guest),
        {"reason": "x", "expires_at": "2020-01-01T10:00", "nonce": new_nonce()},
    )
    assert response.context["greylist_form"].errors["expires_at"] == [
        "The expiry must be in the future."
    ]
    assert not GreylistEntry.objects.exists()


def test_lifting_twice_is_refused_with_the_reason(client, login, guest) -> None:
    login("Front desk")
    entry = guest_greylist(guest=guest, reason="x")
    client.post(url("greylist-lift", guest, entry.pk), follow=True)
    response = client.post(url("greylist-lift", guest, entry.pk), follow=True)
    assert flashes(response) == ["This greylist entry is no longer in force."]


def test_an_entry_of_another_guest_cannot_be_lifted_through_this_page(client, login, guest) -> None:
    login("Front desk")
    entry = guest_greylist(guest=GuestFactory(), reason="x")
    assert client.post(url("greylist-lift", guest, entry.pk)).status_code == 404
    entry.refresh_from_db()
    assert entry.lifted_at is None


# --- Merging duplicates --------------------------------------------------------------------------


def test_a_duplicate_is_merged_after_confirmation_and_the_page_goes_to_the_survivor(
    client, login, guest, accounts, top_up
) -> None:
    top_up(10)
    user = login("Front desk")
    twin = GuestFactory(first_name="Ayse", last_name="Yilmaz", phone=guest.phone, email="")
    stay = ReservationFactory(booker=twin)
    message_send(steps=Step(channel="sms", text="Hello"), guest=twin)
    confirm = client.get(url("guest-merge", guest, twin.pk))
    assert confirm.status_code == 200
    profiles = {p.pk: p for p in confirm.context["profiles"]}
    assert (profiles[twin.pk].n_booked, profiles[twin.pk].n_messages) == (1, 1)

    response = client.post(
        url("guest-merge", guest, twin.pk), {"keep": str(guest.pk), "reason": "same person"}
    )
    assert response["Location"] == url("guest-detail", guest)
    assert not Guest.objects.filter(pk=twin.pk).exists()
    assert Reservation.objects.get(pk=stay.pk).booker == guest
    assert OutboundMessage.objects.get().guest == guest
    merge = GuestMerge.objects.get()
    assert (merge.target, merge.source_guest_id, merge.merged_by, merge.reason) == (
        guest,
        twin.pk,
        user,
        "same person",
    )


def test_the_other_profile_may_be_the_one_kept(client, login, guest) -> None:
    login("Front desk")
    twin = GuestFactory(phone=guest.phone)
    response = client.post(url("guest-merge", guest, twin.pk), {"keep": str(twin.pk)})
    assert response["Location"] == url("guest-detail", twin)
    assert not Guest.objects.filter(pk=guest.pk).exists()


def test_only_a_detected_duplicate_can_be_merged(client, login, guest) -> None:
    login("Front desk")
    stranger = GuestFactory()
    assert client.get(url("guest-merge", guest, stranger.pk)).status_code == 404
    assert (
        client.post(url("guest-merge", guest, stranger.pk), {"keep": str(guest.pk)}).status_code
        == 404
    )
    assert Guest.objects.filter(pk=stranger.pk).exists()


def test_merging_needs_the_merge_permission(client, login, guest) -> None:
    login("Operator")
    twin = GuestFactory(phone=guest.phone)
    assert (
        client.post(url("guest-merge", guest, twin.pk), {"keep": str(guest.pk)}).status_code == 403
    )
    assert Guest.objects.filter(pk=twin.pk).exists()


# --- The profile ---------------------------------------------------------------------------------


def _profile(guest: Guest, **changes: str) -> dict[str, str]:
    data = {
        "first_name": guest.first_name,
        "last_name": guest.last_name,
        "email": guest.email,
        "phone": guest.phone,
        "language": guest.language,
        "nationality": "TR",
        "vip_level": "0",
        "gender": "",
    }
    data.update(changes)
    return data


def test_the_profile_is_saved_through_the_service_and_the_change_is_logged(
    client, login, guest
) -> None:
    user = login("Front desk")
    response = client.post(
        url("guest-edit", guest),
        _profile(guest, phone="0533 111 22 33", warning_note="Check ID twice"),
    )
    assert response["Location"] == url("guest-detail", guest)
    guest.refresh_from_db()
    assert (guest.phone, guest.phone_valid, guest.warning_note) == (
        "+905331112233",
        True,
        "Check ID twice",
    )
    entry = LogEntry.objects.get(object_id=str(guest.pk))
    assert entry.user == user and "phone" in entry.change_message


def test_an_invalid_phone_on_the_profile_is_refused_next_to_the_field(client, login, guest) -> None:
    login("Front desk")
    response = client.post(url("guest-edit", guest), _profile(guest, phone="12"))
    assert response.status_code == 200
    assert "is not a valid phone number" in response.context["form"].errors["phone"][0]
    guest.refresh_from_db()
    assert guest.phone == "+905321234567"


def test_editing_needs_the_change_permission(client, login, guest) -> None:
    login("Operator")
    assert client.get(url("guest-edit", guest)).status_code == 403
    assert client.post(url("guest-edit", guest), _profile(guest, first_name="X")).status_code == 403


def test_a_double_click_on_greylist_makes_one_entry(client, login, guest) -> None:
    login("Front desk")
    form = {"reason": "Rude to staff", "nonce": new_nonce()}

    client.post(url("guest-greylist", guest), form)
    again = client.post(url("guest-greylist", guest), form, follow=True)

    assert GreylistEntry.objects.count() == 1
    assert "This form had already been sent; it was not done again." in again.content.decode()
