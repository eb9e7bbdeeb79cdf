"""Facility booking writes (G3): spa, restaurant and event bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from crm_messaging.actors import Actor
from crm_messaging.i18n import lower_label

from .. import signals
from ..models import Facility, FacilityBooking, Guest, Reservation

# Which status a booking may move to from which.
_MOVES: dict[str, set[str]] = {
    FacilityBooking.Status.BOOKED: {
        FacilityBooking.Status.ATTENDED,
        FacilityBooking.Status.CANCELLED,
        FacilityBooking.Status.NO_SHOW,
    },
}


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime | None) -> None:
    if ends_at is not None and starts_at is not None and ends_at <= starts_at:
        raise ValidationError({"ends_at": gettext("The booking must end after it starts.")})


def _check_stay(guest: Guest, reservation: Reservation | None) -> None:
    if (
        reservation is not None
        and reservation.booker_id != guest.pk
        and not reservation.companion_links.filter(guest=guest).exists()
    ):
        raise ValidationError({"reservation": "That stay is not this guest's."})


@transaction.atomic
def facility_booking_create(
    *,
    guest: Guest,
    facility: Facility,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    party_size: int = 1,
    reservation: Reservation | None = None,
    notes: str = "",
    user: Actor = None,
) -> FacilityBooking:
    """Book a facility for a guest; sends ``facility_booking_created``. Raises ValidationError."""
    _check_stay(guest, reservation)
    _check_times(starts_at, ends_at)
    booking = FacilityBooking(
        guest=guest,
        facility=facility,
        starts_at=starts_at,
        ends_at=ends_at,
        party_size=party_size,
        reservation=reservation,
        notes=notes,
    )
    booking.full_clean()
    booking.save()
    signals.facility_booking_created.send(
        sender=FacilityBooking, facility_booking=booking, user=user
    )
    return booking


# The details facility_booking_modify may change.
FACILITY_BOOKING_DETAILS = frozenset(
    {"facility", "starts_at", "ends_at", "party_size", "reservation", "notes"}
)


@transaction.atomic
def facility_booking_modify(
    *, booking: FacilityBooking, user: Actor = None, **changes: Any
) -> FacilityBooking:
    """Change a booked facility booking's details; sends ``facility_booking_changed``.

    Raises ValidationError for a booking that is no longer booked, a stay that is not the
    guest's, or invalid details.
    """
    unknown = set(changes) - FACILITY_BOOKING_DETAILS
    if unknown:
        raise TypeError(f"Unknown facility booking field(s): {', '.join(sorted(unknown))}")
    locked = FacilityBooking.objects.select_for_update().get(pk=booking.pk)
    if locked.status != FacilityBooking.Status.BOOKED:
        raise ValidationError(
            gettext("A %(status)s booking cannot be changed.")
            % {"status": lower_label(locked.get_status_display())}
        )
    for field, value in changes.items():
        setattr(locked, field, value)
    _check_stay(locked.guest, locked.reservation)
    _check_times(locked.starts_at, locked.ends_at)
    locked.full_clean()
    locked.save()
    signals.facility_booking_changed.send(
        sender=FacilityBooking, facility_booking=locked, user=user
    )
    booking.refresh_from_db()
    return locked


@transaction.atomic
def facility_booking_set_status(
    *, booking: FacilityBooking, status: str, user: Actor = None
) -> FacilityBooking:
    """Mark a booking attended, cancelled or no-show; sends ``facility_booking_changed``.

    Raises ValidationError for a move out of a closed status.
    """
    locked = FacilityBooking.objects.select_for_update().get(pk=booking.pk)
    if status not in _MOVES.get(locked.status, set()):
        wanted = (
            lower_label(FacilityBooking.Status(status).label)
            if status in FacilityBooking.Status.values
            else status
        )
        raise ValidationError(
            gettext("A %(status)s booking cannot become %(wanted)s.")
            % {"status": lower_label(locked.get_status_display()), "wanted": wanted}
        )
    locked.status = status
    locked.save(update_fields=["status"])
    signals.facility_booking_changed.send(
        sender=FacilityBooking, facility_booking=locked, user=user
    )
    booking.status = status
    return locked
