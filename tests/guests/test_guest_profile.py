"""Guest profiles go through the services: contact rules and clear errors (G1, G5)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from guests.contacts import is_ota_relay_email
from guests.models import Guest
from guests.services import guest_create, guest_update

pytestmark = pytest.mark.django_db


def test_it_stores_the_phone_in_e164_and_marks_it_valid() -> None:
    guest = guest_create(first_name="Ayşe", last_name="Yılmaz", phone="0532 123 45 67")
    guest.refresh_from_db()
    assert guest.phone == "+905321234567"
    assert guest.phone_valid


def test_staff_input_with_an_invalid_phone_is_refused_and_nothing_is_created() -> None:
    with pytest.raises(ValidationError) as caught:
        guest_create(first_name="Ayşe", phone="12ab")
    assert "phone" in caught.value.message_dict
    assert "not a phone number" in caught.value.message_dict["phone"][0]
    assert not Guest.objects.exists()


def test_an_import_keeps_an_unreadable_phone_marked_invalid() -> None:
    guest = guest_create(first_name="Old", phone="555-CALL-ME", strict_phone=False, source="import")
    guest.refresh_from_db()
    assert guest.phone == "555-CALL-ME"
    assert not guest.phone_valid


def test_a_malformed_email_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        guest_create(first_name="X", email="not-an-address")
    assert "email" in caught.value.message_dict


def test_a_changed_email_loses_its_verified_mark() -> None:
    guest = guest_create(first_name="Ann", email="ann@example.com")
    Guest.objects.filter(pk=guest.pk).update(email_verified=True)
    guest.refresh_from_db()
    guest_update(guest=guest, email="ann@other.example")
    guest.refresh_from_db()
    assert guest.email == "ann@other.example"
    assert not guest.email_verified


def test_unknown_fields_are_a_programming_error() -> None:
    with pytest.raises(TypeError, match="colour"):
        guest_create(first_name="X", colour="red")


@pytest.mark.parametrize(
    ("email", "relay"),
    [
        ("3fa8c1@guest.booking.com", True),
        ("abc@m.expediapartnercentral.com", True),
        ("xyz@guest.airbnb.com", True),
        ("someone@booking.com", False),
        ("jane@example.com", False),
        ("", False),
    ],
)
def test_ota_relay_addresses_are_recognised(email: str, relay: bool) -> None:
    assert is_ota_relay_email(email) is relay


def test_age_is_counted_in_whole_years() -> None:
    import datetime as dt

    guest = Guest(first_name="K", birth_date=dt.date(2008, 11, 25))
    assert guest.age_on(dt.date(2026, 11, 24)) == 17
    assert guest.age_on(dt.date(2026, 11, 25)) == 18


def test_a_changed_email_on_an_already_edited_instance_still_loses_its_mark() -> None:
    guest = guest_create(first_name="Ann", email="ann@example.com")
    Guest.objects.filter(pk=guest.pk).update(email_verified=True)
    guest.refresh_from_db()
    guest.email = "ann@other.example"  # a form has already put the new value on the instance
    guest_update(guest=guest, email="ann@other.example")
    guest.refresh_from_db()
    assert not guest.email_verified


def test_consent_history_survives_an_attempt_to_delete_the_guest() -> None:
    from django.db.models import ProtectedError

    from guests.services import guest_record_consent

    guest = guest_create(first_name="Kept")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="sms", granted=True, source="staff"
    )
    with pytest.raises(ProtectedError):
        guest.delete()
