"""Reservation writes (G2, G4): create, modify, companions and the status transitions.

Each transition locks the row, refuses an illegal move with a ``TransitionError`` that says
why, writes an audit row and sends its signal inside the transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from crm_messaging.actors import Actor, acting_user, record_staff_action
from crm_messaging.i18n import lower_label

from .. import signals
from ..models import (
    Guest,
    Hotel,
    Reservation,
    ReservationCompanion,
    ReservationStatusChange,
    stay_errors,
)
from .guests import guest_recount_stays

Status = Reservation.Status

# Fields reservation_modify may change, per status; arrival is fixed once the guest is in.
EDITABLE_FIELDS = frozenset(
    {
        "arrival",
        "departure",
        "room_type",
        "room_number",
        "nightly_rate",
        "total_amount",
        "currency",
        "agency",
        "market_segment",
        "board_type",
        "stay_type",
        "source_channel",
        "external_ref",
        "adults",
        "children",
        "send_notifications",
        "notes",
    }
)


class TransitionError(ValidationError):
    """A reservation cannot make the requested move; the message says why."""


# How each move reads in a refusal: "Cannot <phrase> reservation R0000042: …".
_REFUSED_MOVES = {
    "check_in": gettext_lazy(
        "Cannot check in reservation %(number)s: it is %(status)s, and only a %(allowed)s reservation can be."
    ),
    "check_out": gettext_lazy(
        "Cannot check out reservation %(number)s: it is %(status)s, and only a %(allowed)s reservation can be."
    ),
    "cancel": gettext_lazy(
        "Cannot cancel reservation %(number)s: it is %(status)s, and only a %(allowed)s reservation can be."
    ),
    "no_show": gettext_lazy(
        "Cannot mark as a no-show reservation %(number)s: it is %(status)s, and only a %(allowed)s reservation can be."
    ),
}


def _derived_total(reservation: Reservation) -> Decimal:
    return (reservation.nightly_rate * reservation.nights).quantize(Decimal("0.01"))


def _status_change(
    reservation: Reservation,
    *,
    action: str,
    from_status: str,
    user: Actor,
    business_date: dt.date,
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> ReservationStatusChange:
    return ReservationStatusChange(
        reservation=reservation,
        action=action,
        from_status=from_status,
        to_status=reservation.status,
        business_date=business_date,
        changes=changes or {},
        note=note[:255],
        by=acting_user(user),
    )


def _check_dates(arrival: dt.date, departure: dt.date) -> None:
    if errors := stay_errors(arrival=arrival, departure=departure):
        raise ValidationError(errors)


def _build_stay(
    *,
    hotel: Hotel,
    booker: Guest,
    arrival: dt.date,
    departure: dt.date,
    details: dict[str, Any],
    **fields: Any,
) -> Reservation:
    """A new stay, validated, not saved."""
    unknown = set(details) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Unknown reservation field(s): {', '.join(sorted(unknown))}")
    _check_dates(arrival, departure)
    reservation = Reservation(
        booker=booker,
        arrival=arrival,
        departure=departure,
        **{"send_notifications": hotel.send_notifications_default, **fields, **details},
    )
    reservation.nights = (departure - arrival).days
    if "total_amount" not in details:
        reservation.total_amount = _derived_total(reservation)
    # The model's check constraints hold the lines ``clean`` (``stay_errors``) already checks;
    # asking the database for each of them again would cost three queries a stay.
    reservation.full_clean(
        exclude=["booker", "room_type", "board_type"], validate_constraints=False
    )
    return reservation


def _add_companions(reservation: Reservation, companions: list[Guest] | tuple[Guest, ...]) -> None:
    for companion in companions:
        if companion.pk != reservation.booker_id:
            ReservationCompanion.objects.get_or_create(reservation=reservation, guest=companion)


def _new_stay(
    *,
    hotel: Hotel,
    booker: Guest,
    arrival: dt.date,
    departure: dt.date,
    companions: list[Guest] | tuple[Guest, ...],
    details: dict[str, Any],
    **fields: Any,
) -> Reservation:
    """Validate and save a new stay with its companions (no audit row, no signal)."""
    reservation = _build_stay(
        hotel=hotel, booker=booker, arrival=arrival, departure=departure, details=details, **fields
    )
    reservation.save()
    _add_companions(reservation, companions)
    return reservation


def reservation_build(
    *,
    hotel: Hotel,
    booker: Guest,
    arrival: dt.date,
    departure: dt.date,
    room_type: Any,
    board_type: Any,
    send_notifications: bool | None = None,
    **details: Any,
) -> Reservation:
    """The stay ``reservation_create`` would book, checked as it checks it, not saved (its
    booker may be a guest not saved yet); ``reservations_save_new`` books it. Raises
    ValidationError for impossible dates or invalid details."""
    if send_notifications is not None:
        details = {**details, "send_notifications": send_notifications}
    return _build_stay(
        hotel=hotel,
        booker=booker,
        arrival=arrival,
        departure=departure,
        details=details,
        room_type=room_type,
        board_type=board_type,
    )


def reservations_save_new(
    reservations: list[Reservation],
    *,
    hotel: Hotel,
    companions: list[list[Guest] | tuple[Guest, ...]] | None = None,
    user: Actor = None,
) -> None:
    """Book stays built by ``reservation_build`` — several in one statement — exactly as
    ``reservation_create`` books one: each with its companions, its audit row and its
    ``reservation_created`` signal. Call inside a transaction."""
    if len(reservations) == 1:
        reservations[0].save()
    elif reservations:
        Reservation.objects.bulk_create(reservations)
    for reservation, extras in zip(reservations, companions or [], strict=False):
        _add_companions(reservation, extras)
    changes = [
        _status_change(
            reservation,
            action="create",
            from_status="",
            user=user,
            business_date=hotel.business_date,
        )
        for reservation in reservations
    ]
    ReservationStatusChange.objects.bulk_create(changes)
    for reservation in reservations:
        signals.reservation_created.send(sender=Reservation, reservation=reservation, user=user)


@transaction.atomic
def reservation_create(
    *,
    booker: Guest,
    arrival: dt.date,
    departure: dt.date,
    room_type: Any,
    board_type: Any,
    companions: list[Guest] | tuple[Guest, ...] = (),
    send_notifications: bool | None = None,
    user: Actor = None,
    **details: Any,
) -> Reservation:
    """Book a stay and send ``reservation_created``.

    ``send_notifications`` defaults to the hotel's setting. The total defaults to nights ×
    nightly rate. Raises ValidationError for impossible dates or invalid details.
    """
    hotel = Hotel.load()
    reservation = reservation_build(
        hotel=hotel,
        booker=booker,
        arrival=arrival,
        departure=departure,
        room_type=room_type,
        board_type=board_type,
        send_notifications=send_notifications,
        **details,
    )
    reservations_save_new([reservation], hotel=hotel, companions=[companions], user=user)
    return reservation


@transaction.atomic
def reservation_record_past(
    *,
    booker: Guest,
    status: str,
    arrival: dt.date,
    departure: dt.date,
    room_type: Any,
    board_type: Any,
    companions: list[Guest] | tuple[Guest, ...] = (),
    cancel_reason: str = "",
    user: Actor = None,
    **details: Any,
) -> Reservation:
    """Record a stay that is already over (checked out, cancelled or a no-show), as another
    system reports its history: no signal is sent, so no trigger fires for it; the audit row
    says it was recorded. A checked-out stay counts for its guests. Raises ValidationError for
    another status, impossible dates or invalid details."""
    if status not in (Status.CHECKED_OUT, Status.CANCELLED, Status.NO_SHOW):
        raise ValidationError({"status": gettext("Only a stay that is over can be recorded.")})
    hotel = Hotel.load()
    reservation = _new_stay(
        hotel=hotel,
        booker=booker,
        arrival=arrival,
        departure=departure,
        companions=companions,
        details=details,
        room_type=room_type,
        board_type=board_type,
        status=status,
        cancel_reason=cancel_reason[:255],
    )
    _status_change(
        reservation,
        action="record",
        from_status="",
        user=user,
        business_date=hotel.business_date,
        note=cancel_reason,
    ).save()
    if status == Status.CHECKED_OUT:
        for guest in reservation.guests():
            guest_recount_stays(guest)
    return reservation


@transaction.atomic
def reservation_modify(
    *, reservation: Reservation, user: Actor = None, **changes: Any
) -> Reservation:
    """Change a confirmed or in-house stay and send ``reservation_modified`` with what changed.

    Raises TransitionError for a closed stay or a moved arrival after check-in, and
    ValidationError for impossible dates.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Unknown reservation field(s): {', '.join(sorted(unknown))}")
    locked = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if not locked.is_active_stay:
        raise TransitionError(
            gettext("A %(status)s reservation cannot be changed.")
            % {"status": lower_label(locked.get_status_display())}
        )
    business_date = Hotel.load().business_date
    if locked.status == Status.CHECKED_IN:
        if "arrival" in changes and changes["arrival"] != locked.arrival:
            raise TransitionError(
                gettext("The guest is in house: the arrival date can no longer change.")
            )
        if "departure" in changes and changes["departure"] < business_date:
            raise TransitionError(
                gettext("An in-house guest cannot depart before the business date (%(day)s).")
                % {"day": f"{business_date:%d.%m.%Y}"}
            )
    diff: dict[str, list[str]] = {}
    for field, value in changes.items():
        old = getattr(locked, field)
        if old != value:
            diff[field] = [str(old), str(value)]
            setattr(locked, field, value)
    if not diff:
        return locked
    _check_dates(locked.arrival, locked.departure)
    locked.nights = (locked.departure - locked.arrival).days
    if "total_amount" not in changes and {"arrival", "departure", "nightly_rate"} & set(diff):
        old_total, locked.total_amount = locked.total_amount, _derived_total(locked)
        if old_total != locked.total_amount:
            diff["total_amount"] = [str(old_total), str(locked.total_amount)]
    locked.full_clean(exclude=["booker", "room_type", "board_type"])
    locked.save()
    _status_change(
        locked,
        action="modify",
        from_status=locked.status,
        user=user,
        business_date=business_date,
        changes=diff,
    ).save()
    signals.reservation_modified.send(
        sender=Reservation, reservation=locked, changes=diff, user=user
    )
    reservation.refresh_from_db()
    return locked


@transaction.atomic
def reservation_add_companion(
    *,
    reservation: Reservation,
    guest: Guest,
    user: Actor = None,
    added_by: Guest | None = None,
) -> ReservationCompanion:
    """Add ``guest`` to the stay as a companion (once), kept in the reservation's history with
    the staff member; ``added_by`` is the guest who added him in the guest portal.

    Raises ValidationError for the booker.
    """
    if guest.pk == reservation.booker_id:
        raise ValidationError(gettext("The booker is already on this reservation."))
    link, created = ReservationCompanion.objects.get_or_create(
        reservation=reservation, guest=guest, defaults={"added_by": added_by}
    )
    if created:
        _log_companion(reservation, guest, action="Added", user=user)
    return link


@transaction.atomic
def reservation_remove_companion(
    *, reservation: Reservation, guest: Guest, user: Actor = None
) -> bool:
    """Take ``guest`` off the stay's companions, kept in the reservation's history with the
    staff member; return whether he was on it (removing him twice changes nothing). His
    profile stays."""
    removed, _ = ReservationCompanion.objects.filter(reservation=reservation, guest=guest).delete()
    if removed:
        _log_companion(reservation, guest, action="Removed", user=user)
    return bool(removed)


def _log_companion(reservation: Reservation, guest: Guest, *, action: str, user: Actor) -> None:
    record_staff_action(user, reservation, f"{action} companion {guest.full_name} (#{guest.pk}).")


def _transition(
    reservation: Reservation,
    *,
    action: str,
    allowed_from: tuple[str, ...],
    to: str,
    signal: Signal,
    user: Actor,
    note: str = "",
    check: Any = None,
    **signal_kwargs: Any,
) -> Reservation:
    locked = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if locked.status not in allowed_from:
        separator = gettext("or")
        allowed = f" {separator} ".join(lower_label(Status(s).label) for s in allowed_from)
        raise TransitionError(
            _REFUSED_MOVES[action]
            % {
                "number": locked.number,
                "status": lower_label(locked.get_status_display()),
                "allowed": allowed,
            }
        )
    business_date = Hotel.load().business_date
    if check is not None:
        check(locked, business_date)
    from_status = locked.status
    locked.status = to
    now = timezone.now()
    if to == Status.CHECKED_IN:
        locked.checked_in_at = now
    elif to == Status.CHECKED_OUT:
        locked.checked_out_at = now
    elif to in (Status.CANCELLED, Status.NO_SHOW):
        locked.cancelled_at = now
    locked.save()
    _status_change(
        locked,
        action=action,
        from_status=from_status,
        user=user,
        business_date=business_date,
        note=note,
    ).save()
    signal.send(sender=Reservation, reservation=locked, user=user, **signal_kwargs)
    reservation.refresh_from_db()
    return locked


def _may_check_in(reservation: Reservation, business_date: dt.date) -> None:
    if reservation.arrival > business_date:
        raise TransitionError(
            gettext(
                "Reservation %(number)s arrives on %(arrival)s; the business date is %(day)s. "
                "Move the arrival first to check in early."
            )
            % {
                "number": reservation.number,
                "arrival": f"{reservation.arrival:%d.%m.%Y}",
                "day": f"{business_date:%d.%m.%Y}",
            }
        )
    if reservation.departure <= business_date:
        raise TransitionError(
            gettext("Reservation %(number)s departed on %(departure)s: it can no longer check in.")
            % {"number": reservation.number, "departure": f"{reservation.departure:%d.%m.%Y}"}
        )


def _may_be_no_show(reservation: Reservation, business_date: dt.date) -> None:
    if reservation.arrival > business_date:
        raise TransitionError(
            gettext(
                "Reservation %(number)s arrives on %(arrival)s: it cannot be a no-show before its arrival day."
            )
            % {"number": reservation.number, "arrival": f"{reservation.arrival:%d.%m.%Y}"}
        )


@transaction.atomic
def reservation_check_in(
    *, reservation: Reservation, room_number: str = "", user: Actor = None
) -> Reservation:
    """Check the guests in (confirmed → checked in) on or after the arrival day; sends ``reservation_checked_in``."""
    if room_number:
        Reservation.objects.filter(pk=reservation.pk).update(room_number=room_number[:10])
    return _transition(
        reservation,
        action="check_in",
        allowed_from=(Status.CONFIRMED,),
        to=Status.CHECKED_IN,
        signal=signals.reservation_checked_in,
        user=user,
        check=_may_check_in,
    )


@transaction.atomic
def reservation_check_out(*, reservation: Reservation, user: Actor = None) -> Reservation:
    """Check the guests out (checked in → checked out); an early departure moves the departure date.

    Counts the stay for the booker and the companions; sends ``reservation_checked_out``.
    """

    def shorten_early_departure(locked: Reservation, business_date: dt.date) -> None:
        if locked.departure > business_date and business_date > locked.arrival:
            locked.departure = business_date
            locked.nights = (locked.departure - locked.arrival).days
            locked.total_amount = _derived_total(locked)

    result = _transition(
        reservation,
        action="check_out",
        allowed_from=(Status.CHECKED_IN,),
        to=Status.CHECKED_OUT,
        signal=signals.reservation_checked_out,
        user=user,
        check=shorten_early_departure,
    )
    for guest in result.guests():
        guest_recount_stays(guest)
    return result


@transaction.atomic
def reservation_cancel(
    *, reservation: Reservation, reason: str = "", user: Actor = None
) -> Reservation:
    """Cancel a confirmed reservation; sends ``reservation_cancelled``. In-house stays check out instead."""
    Reservation.objects.filter(pk=reservation.pk, status=Status.CONFIRMED).update(
        cancel_reason=reason[:255]
    )
    return _transition(
        reservation,
        action="cancel",
        allowed_from=(Status.CONFIRMED,),
        to=Status.CANCELLED,
        signal=signals.reservation_cancelled,
        user=user,
        note=reason,
        reason=reason,
    )


@transaction.atomic
def reservation_mark_no_show(
    *, reservation: Reservation, user: Actor = None, note: str = ""
) -> Reservation:
    """Mark a confirmed reservation whose arrival day has come as a no-show; sends ``reservation_no_show``."""
    return _transition(
        reservation,
        action="no_show",
        allowed_from=(Status.CONFIRMED,),
        to=Status.NO_SHOW,
        signal=signals.reservation_no_show,
        user=user,
        note=note,
        check=_may_be_no_show,
    )
