"""The night audit closes the business day and tells listeners (G4)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from guests import signals
from guests.models import Hotel, NightAudit, Reservation
from guests.services import NightAuditError, night_audit_run
from tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db
S = Reservation.Status


def test_it_advances_the_business_date_and_records_the_closed_day(hotel: Hotel) -> None:
    closing = hotel.business_date
    audit = night_audit_run()
    hotel.refresh_from_db()
    assert hotel.business_date == closing + dt.timedelta(days=1)
    assert audit.business_date == closing
    assert NightAudit.objects.get().business_date == closing


def test_arrivals_that_never_came_become_no_shows(hotel: Hotel) -> None:
    missed = ReservationFactory(arrival=hotel.business_date)
    tomorrow = ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=1))
    in_house = ReservationFactory(status=S.CHECKED_IN)
    audit = night_audit_run()
    statuses = {r.pk: r.status for r in Reservation.objects.all()}
    assert statuses == {missed.pk: S.NO_SHOW, tomorrow.pk: S.CONFIRMED, in_house.pk: S.CHECKED_IN}
    assert audit.no_shows == 1
    assert audit.in_house == 1


def test_the_hotel_can_keep_missed_arrivals_open(hotel: Hotel) -> None:
    hotel.auto_no_show_at_night_audit = False
    hotel.save()
    missed = ReservationFactory(arrival=hotel.business_date)
    night_audit_run()
    missed.refresh_from_db()
    assert missed.status == S.CONFIRMED


def test_it_counts_overstays(hotel: Hotel) -> None:
    ReservationFactory(
        status=S.CHECKED_IN,
        arrival=hotel.business_date - dt.timedelta(days=3),
        departure=hotel.business_date,
    )
    assert night_audit_run().overstays == 1


def test_listeners_hear_the_closed_day_and_the_new_business_date(hotel: Hotel) -> None:
    closing = hotel.business_date
    heard: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        heard.append(kwargs)

    signals.night_audit_completed.connect(receiver, weak=False)
    try:
        night_audit_run()
    finally:
        signals.night_audit_completed.disconnect(receiver)
    assert len(heard) == 1
    assert heard[0]["audit"].business_date == closing
    assert heard[0]["business_date"] == closing + dt.timedelta(days=1)


def test_closing_a_day_that_is_no_longer_current_changes_nothing(hotel: Hotel) -> None:
    closing = hotel.business_date
    night_audit_run(expected_date=closing)
    with pytest.raises(NightAuditError, match="already closed"):
        night_audit_run(expected_date=closing)
    hotel.refresh_from_db()
    assert hotel.business_date == closing + dt.timedelta(days=1)
    assert NightAudit.objects.count() == 1


def test_the_command_reports_the_day_and_refuses_a_stale_date(hotel: Hotel) -> None:
    closing = hotel.business_date
    out = StringIO()
    call_command("night_audit", "--date", closing.isoformat(), stdout=out)
    assert f"Closed {closing:%Y-%m-%d}" in out.getvalue()
    with pytest.raises(CommandError, match="already closed"):
        call_command("night_audit", "--date", closing.isoformat())
