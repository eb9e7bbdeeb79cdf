"""The night audit (G4): close the business day and open the next."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from crm_messaging.actors import Actor, acting_user

from .. import signals
from ..models import Hotel, NightAudit, Reservation
from .reservations import reservation_mark_no_show

Status = Reservation.Status


class NightAuditError(ValidationError):
    """The night audit cannot run as asked; the message says why."""


@transaction.atomic
def night_audit_run(*, user: Actor = None, expected_date: dt.date | None = None) -> NightAudit:
    """Close the current business date, advance it by one day and send ``night_audit_completed``.

    Arrivals of the closing day that never checked in become no-shows when the hotel says
    so. ``expected_date`` guards against closing the wrong day (e.g. a double click): when
    given and different from the business date, NightAuditError is raised and nothing changes.
    """
    hotel = Hotel.objects.select_for_update().get(pk=Hotel.load().pk)
    closing = hotel.business_date
    if expected_date is not None and expected_date != closing:
        raise NightAuditError(
            f"The business date is {closing:%d.%m.%Y}, not {expected_date:%d.%m.%Y}: that day is already closed."
        )
    no_shows = 0
    if hotel.auto_no_show_at_night_audit:
        for reservation in Reservation.objects.filter(
            status=Status.CONFIRMED, arrival__lte=closing
        ).order_by("pk"):
            reservation_mark_no_show(reservation=reservation, user=user, note="night audit")
            no_shows += 1
    audit = NightAudit.objects.create(
        business_date=closing,
        run_by=acting_user(user),
        arrivals=Reservation.objects.filter(
            arrival=closing, status__in=[Status.CHECKED_IN, Status.CHECKED_OUT]
        ).count(),
        departures=Reservation.objects.filter(departure=closing, status=Status.CHECKED_OUT).count(),
        in_house=Reservation.objects.filter(status=Status.CHECKED_IN).count(),
        no_shows=no_shows,
        overstays=Reservation.objects.filter(
            status=Status.CHECKED_IN, departure__lte=closing
        ).count(),
    )
    hotel.business_date = closing + dt.timedelta(days=1)
    hotel.save(update_fields=["business_date"])
    signals.night_audit_completed.send(
        sender=NightAudit, audit=audit, business_date=hotel.business_date, user=user
    )
    return audit
