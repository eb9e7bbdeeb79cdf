"""Who did something: staff actions kept with their user (crm_messaging.actors)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import AnonymousUser

from crm_messaging.actors import record_staff_action
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def test_a_staff_action_is_kept_in_the_objects_admin_history_with_its_user(
    django_user_model, caplog
) -> None:
    clerk, guest = django_user_model.objects.create(username="clerk"), GuestFactory()
    with caplog.at_level("INFO", logger="crm_messaging.staff_actions"):
        record_staff_action(clerk, guest, "Changed phone on the front desk.")
        record_staff_action(clerk, guest, [{"changed": {"fields": ["E-mail"]}}], added=True)
    first, second = LogEntry.objects.filter(object_id=str(guest.pk)).order_by("pk")
    assert (first.user, first.action_flag, first.change_message) == (
        clerk,
        CHANGE,
        "Changed phone on the front desk.",
    )
    assert (second.action_flag, second.get_change_message()) == (ADDITION, "Changed E-mail.")
    assert "by clerk" in caplog.text


@pytest.mark.parametrize("user", [None, AnonymousUser()])
def test_nothing_is_recorded_without_a_signed_in_user(user) -> None:
    record_staff_action(user, GuestFactory(), "Changed phone.")
    assert not LogEntry.objects.exists()
