"""Consent records are append-only in PostgreSQL itself (G6): a trigger refuses the UPDATE and
DELETE that ``QuerySet.update()`` / ``.delete()`` and raw SQL would do past the model's guard;
a merge may still move a history and a deleted staff user may still be forgotten."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from guests.models import ConsentRecord
from guests.services import guest_merge, guest_record_consent
from tests.factories import GuestFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def record(django_user_model) -> ConsentRecord:
    clerk = django_user_model.objects.create_user("clerk")
    return guest_record_consent(
        guest=GuestFactory(),
        purpose="marketing",
        channel="email",
        granted=True,
        source="staff",
        user=clerk,
    )


def _refused(action) -> str:
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        action()
    return str(refused.value)


def test_queryset_update_is_refused(record) -> None:
    message = _refused(lambda: ConsentRecord.objects.filter(pk=record.pk).update(granted=False))
    assert "append-only" in message
    record.refresh_from_db()
    assert record.granted is True


@pytest.mark.parametrize(
    "change",
    [
        {"purpose": "service"},
        {"note": "tidied up"},
        {"source": "import"},
        {"wording_version": "v9"},
    ],
)
def test_no_field_of_the_statement_can_change(record, change) -> None:
    _refused(lambda: ConsentRecord.objects.filter(pk=record.pk).update(**change))
    record.refresh_from_db()
    assert (record.purpose, record.note, record.source, record.wording_version) == (
        "marketing",
        "",
        "staff",
        "",
    )


def test_queryset_delete_and_raw_sql_are_refused(record) -> None:
    assert "append-only" in _refused(lambda: ConsentRecord.objects.filter(pk=record.pk).delete())

    def raw_delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM guests_consentrecord WHERE id = %s", [record.pk])

    _refused(raw_delete)
    assert ConsentRecord.objects.filter(pk=record.pk).exists()


def test_pointing_the_record_at_another_user_is_refused(record, django_user_model) -> None:
    other = django_user_model.objects.create_user("other")
    _refused(lambda: ConsentRecord.objects.filter(pk=record.pk).update(recorded_by=other))


def test_a_merge_still_moves_the_history_to_the_surviving_guest(record) -> None:
    target = GuestFactory()
    guest_merge(source=record.guest, target=target)
    record.refresh_from_db()
    assert record.guest == target and record.granted is True


def test_deleting_the_staff_user_who_recorded_it_keeps_the_record(record) -> None:
    record.recorded_by.delete()
    record.refresh_from_db()
    assert record.recorded_by is None and record.granted is True
