"""Greylist entries stop marketing until lifted or expired (G7)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from guests.models import GreylistEntry
from guests.selectors import guest_is_greylisted
from guests.services import greylist_lift, guest_greylist
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def test_an_entry_with_an_expiry_stops_counting_when_it_expires() -> None:
    guest = GuestFactory()
    now = timezone.now()
    guest_greylist(guest=guest, reason="unpaid minibar", expires_at=now + dt.timedelta(days=7))
    assert guest_is_greylisted(guest)
    with time_machine.travel(now + dt.timedelta(days=7, seconds=1)):
        assert not guest_is_greylisted(guest)
        assert GreylistEntry.objects.active().count() == 0


def test_an_entry_without_expiry_lasts_until_lifted(django_user_model) -> None:
    manager = django_user_model.objects.create_user("manager", password="x")
    guest = GuestFactory()
    entry = guest_greylist(guest=guest, reason="abusive")
    with time_machine.travel(timezone.now() + dt.timedelta(days=3650)):
        assert guest_is_greylisted(guest)
    greylist_lift(entry=entry, user=manager, reason="apologised")
    entry.refresh_from_db()
    assert not guest_is_greylisted(guest)
    assert entry.lifted_by == manager


def test_a_lifted_entry_cannot_be_lifted_again() -> None:
    entry = guest_greylist(guest=GuestFactory(), reason="x")
    greylist_lift(entry=entry)
    with pytest.raises(ValidationError, match="no longer in force"):
        greylist_lift(entry=entry)


@pytest.mark.parametrize(
    ("reason", "expires_in", "field"),
    [
        ("", None, "reason"),
        ("   ", None, "reason"),
        ("late payer", dt.timedelta(days=-1), "expires_at"),
    ],
)
def test_bad_entries_are_refused(reason: str, expires_in: dt.timedelta | None, field: str) -> None:
    expires_at = timezone.now() + expires_in if expires_in else None
    with pytest.raises(ValidationError) as caught:
        guest_greylist(guest=GuestFactory(), reason=reason, expires_at=expires_at)
    assert field in caught.value.message_dict
    assert not GreylistEntry.objects.exists()
