"""A guest's notes, preferences, allergens and warning note hold at most NOTE_MAX_LENGTH
characters (QA1 item 12: a 200,000-character warning note was saved): the profile form
refuses a longer one on its field, the services refuse it whoever calls them, and nothing
changes; exactly the limit is kept."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from guests import services
from guests.models import NOTE_MAX_LENGTH, Guest
from tests.guests.test_screens_guest_actions import _profile, guest, login, url  # noqa: F401

pytestmark = pytest.mark.django_db

NOTE_FIELDS = ("warning_note", "notes", "preferences", "allergens")


def test_the_profile_form_refuses_a_note_longer_than_the_limit(client, login, guest) -> None:  # noqa: F811
    login("Front desk")
    before = Guest.objects.values().get(pk=guest.pk)
    too_long = {name: "x" * 200_000 for name in NOTE_FIELDS}

    response = client.post(url("guest-edit", guest), _profile(guest, **too_long))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == set(NOTE_FIELDS)
    assert errors["warning_note"] == [
        f"Ensure this value has at most {NOTE_MAX_LENGTH} characters (it has 200000)."
    ]
    assert f'maxlength="{NOTE_MAX_LENGTH}"' in response.content.decode()
    assert Guest.objects.values().get(pk=guest.pk) == before

    # The limit itself is kept.
    response = client.post(
        url("guest-edit", guest), _profile(guest, warning_note="x" * NOTE_MAX_LENGTH)
    )
    assert response.status_code == 302
    guest.refresh_from_db()
    assert len(guest.warning_note) == NOTE_MAX_LENGTH


def test_the_services_refuse_a_longer_note_whoever_calls_them(guest) -> None:  # noqa: F811
    with pytest.raises(ValidationError) as update:
        services.guest_update(guest=guest, warning_note="x" * (NOTE_MAX_LENGTH + 1))
    with pytest.raises(ValidationError) as create:
        services.guest_create(first_name="Ali", notes="x" * (NOTE_MAX_LENGTH + 1))
    assert set(update.value.message_dict) == {"warning_note"}
    assert set(create.value.message_dict) == {"notes"}
    guest.refresh_from_db()
    assert guest.warning_note == "" and not Guest.objects.filter(first_name="Ali").exists()
