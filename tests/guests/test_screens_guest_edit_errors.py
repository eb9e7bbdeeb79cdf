"""The guest profile refuses a birth date in the future and shows every problem at once —
a bad phone, a bad e-mail and an impossible birth date together, not one per attempt; the
services refuse the same, all at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guests import services
from guests.models import Guest
from tests.guests.test_screens_guest_actions import _profile, guest, login, url  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_birth_date_in_the_future_is_refused_by_the_field(client, login, guest) -> None:  # noqa: F811
    login("Front desk")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = client.post(
        url("guest-edit", guest), _profile(guest, birth_date=tomorrow.isoformat())
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "birth_date": ["The birth date cannot be in the future."]
    }
    guest.refresh_from_db()
    assert guest.birth_date is None


def test_every_field_error_is_shown_at_once(client, login, guest) -> None:  # noqa: F811
    login("Front desk")
    before = Guest.objects.values().get(pk=guest.pk)

    response = client.post(
        url("guest-edit", guest),
        _profile(guest, phone="12", email="not an address", birth_date="2999-01-01", first_name=""),
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"phone", "email", "birth_date", "first_name"}
    page = response.content.decode()
    assert "is not a valid phone number" in page
    assert "is not a valid e-mail address" in page
    assert "The birth date cannot be in the future." in page
    assert Guest.objects.values().get(pk=guest.pk) == before


def test_the_services_report_contact_and_profile_problems_together(guest) -> None:  # noqa: F811
    future = timezone.localdate() + dt.timedelta(days=30)
    with pytest.raises(ValidationError) as update:
        services.guest_update(guest=guest, phone="12", email="x@", birth_date=future)
    with pytest.raises(ValidationError) as create:
        services.guest_create(first_name="Ali", phone="12", birth_date=future)

    assert set(update.value.message_dict) == {"phone", "email", "birth_date"}
    assert set(create.value.message_dict) == {"phone", "birth_date"}
    assert Guest.objects.count() == 1
