"""Reads of the CRM core: business date, consent state, messaging permission, duplicates, and
guests' rows held for a transaction that will write rows pointing at them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django.db.models import Case, CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Lower
from django.db.models.lookups import Exact, IsNull

from .contacts import is_ota_relay_email
from .models import (
    ConsentPurpose,
    ConsentRecord,
    GreylistEntry,
    Guest,
    GuestExternalId,
    Hotel,
    Reservation,
    ReservationExternalId,
)

# Why a guest may not receive a message; the sender layer records these as skip reasons.
BLOCK_NO_DATA_CONSENT = "no data-processing consent"
BLOCK_NO_CONSENT = "no consent"
BLOCK_OPTED_OUT = "opted out"
BLOCK_GREYLISTED = "greylisted"


def hotel_business_date() -> dt.date:
    """Return the hotel's current business date."""
    return Hotel.load().business_date


def consent_current(guest: Guest) -> dict[tuple[str, str], ConsentRecord]:
    """Return the newest consent record of each (purpose, channel) the guest has a statement for."""
    return consent_current_of([guest.pk]).get(guest.pk, {})


def consent_current_of(
    guest_ids: list[int],
) -> dict[int, dict[tuple[str, str], ConsentRecord]]:
    """``consent_current`` for several guests in one query, by guest id (a guest without any
    statement is left out)."""
    current: dict[int, dict[tuple[str, str], ConsentRecord]] = {}
    records = ConsentRecord.objects.filter(guest_id__in=guest_ids).order_by(
        "guest_id", "-recorded_at", "-pk"
    )
    for record in records:
        current.setdefault(record.guest_id, {}).setdefault((record.purpose, record.channel), record)
    return current


def latest_granted(purpose: str, channel: str, guest: OuterRef | None = None) -> Subquery:
    """The guest's current consent for (purpose, channel): his newest statement (None: never asked).

    ``guest`` points at the guest row of the outer query (default: its primary key).
    """
    return Subquery(
        ConsentRecord.objects.filter(
            guest=guest if guest is not None else OuterRef("pk"), purpose=purpose, channel=channel
        )
        .order_by("-recorded_at", "-pk")
        .values("granted")[:1]
    )


def greylisted_expression(at: dt.datetime | None = None, guest: OuterRef | None = None) -> Exists:
    """An expression true for guests with a greylist entry in force at ``at``."""
    return Exists(
        GreylistEntry.objects.active(at).filter(
            guest=guest if guest is not None else OuterRef("pk")
        )
    )


def block_reason_expression(*, purpose: str, channel: str, at: dt.datetime | None = None) -> Case:
    """The one rule deciding whether a guest may get a message of ``purpose`` by ``channel``.

    Evaluates to "" when allowed, otherwise to the reason. Withdrawn data-processing consent
    stops everything; marketing needs an explicit, current opt-in for the channel and no
    greylist entry in force; service messages go unless the guest opted out of them on that
    channel. Audiences filter on it in SQL and the sender reads it for one guest, so the rule
    is written once.
    """
    data = latest_granted(ConsentPurpose.DATA_PROCESSING, "")
    communication = latest_granted(purpose, channel)
    whens = [
        When(Exact(data, Value(False)), then=Value(BLOCK_NO_DATA_CONSENT)),
        When(Exact(communication, Value(False)), then=Value(BLOCK_OPTED_OUT)),
    ]
    if purpose == ConsentPurpose.MARKETING:
        whens += [
            When(IsNull(communication, True), then=Value(BLOCK_NO_CONSENT)),
            When(greylisted_expression(at), then=Value(BLOCK_GREYLISTED)),
        ]
    return Case(*whens, default=Value(""), output_field=CharField())


def messageable_guests(
    queryset: QuerySet[Guest], *, purpose: str, channel: str, at: dt.datetime | None = None
) -> QuerySet[Guest]:
    """Narrow ``queryset`` to guests who may get a message of ``purpose`` by ``channel``."""
    return queryset.alias(
        _block=block_reason_expression(purpose=purpose, channel=channel, at=at)
    ).filter(_block="")


def guest_block_reason(
    guest: Guest, *, purpose: str, channel: str, at: dt.datetime | None = None
) -> str:
    """Return why ``guest`` may not get this message now, or "" if he may."""
    reason = (
        Guest.objects.filter(pk=guest.pk)
        .annotate(block=block_reason_expression(purpose=purpose, channel=channel, at=at))
        .values_list("block", flat=True)
        .first()
    )
    return reason or ""


def guest_is_greylisted(guest: Guest, at: dt.datetime | None = None) -> bool:
    """Tell whether a greylist entry is in force for ``guest``."""
    return guest.greylist_entries.active(at).exists()


def guest_find_duplicates(guest: Guest) -> QuerySet[Guest]:
    """Return other profiles that look like the same person.

    A match is the same phone, the same e-mail (ignoring case; relay addresses excluded, as
    each OTA booking gets its own), or the same full name and birth date.
    """
    match = Q(pk__in=[])
    if guest.phone and guest.phone_valid:
        match |= Q(phone=guest.phone, phone_valid=True)
    if guest.email and not is_ota_relay_email(guest.email):
        match |= Q(email_lower=guest.email.lower())
    if guest.birth_date and guest.last_name:
        match |= Q(
            first_name__iexact=guest.first_name,
            last_name__iexact=guest.last_name,
            birth_date=guest.birth_date,
        )
    return Guest.objects.annotate(email_lower=Lower("email")).filter(match).exclude(pk=guest.pk)


def guest_find_existing(*, email: str = "", phone: str = "") -> Guest | None:
    """Return the profile already holding this verified e-mail or this valid phone, if any.

    Used to recognise a repeat guest and to link an OTA booking to the profile the guest
    already has once he confirms a real contact detail.
    """
    match = Q(pk__in=[])
    if email:
        match |= Q(email__iexact=email, email_verified=True)
    if phone:
        match |= Q(phone=phone, phone_valid=True)
    return Guest.objects.filter(match).order_by("-stay_count", "pk").first()


def guest_by_external_id(*, source: str, external_id: str) -> Guest | None:
    """The guest ``source`` calls ``external_id``, or None."""
    ref = (
        GuestExternalId.objects.select_related("guest")
        .filter(source=source, external_id=external_id)
        .first()
    )
    return ref.guest if ref else None


def reservation_by_external_id(*, source: str, external_id: str) -> Reservation | None:
    """The reservation ``source`` calls ``external_id``, or None."""
    ref = (
        ReservationExternalId.objects.select_related("reservation")
        .filter(source=source, external_id=external_id)
        .first()
    )
    return ref.reservation if ref else None


def guests_hold(guest_ids: Iterable[int]) -> None:
    """Lock the rows of ``guest_ids`` FOR KEY SHARE (in id order) until the transaction ends.

    The lock a row pointing at a guest (a reservation, a message) takes for its foreign key
    when the transaction commits, taken first instead: a transaction that will write such
    rows and then wait for a lock of its own (a message's row, a booker's attribution) takes
    it before them, as a merge or an import takes the guest's row before the rest, so the
    two never wait for each other. Other writers of the guest (saves) are not held up; a
    merge's or an import's FOR UPDATE waits. Nothing to do on SQLite (one writer at a time).
    """
    ids = sorted(set(guest_ids))
    if not ids or connection.vendor != "postgresql":
        return
    sql, params = (
        Guest.objects.filter(pk__in=ids).order_by("pk").values("pk").query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)
