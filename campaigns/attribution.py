"""Booking attribution (E4), written when a reservation is made: the campaigns layer's part.

The rule, last touch: a reservation is attributed to the last campaign message its booker was
sent (status sent or delivered) at or before the moment it was made, if that was at most
``ATTRIBUTION_WINDOW_DAYS`` earlier — so once, for one message. Cancelled and no-show
reservations bring nothing. A message sent after the
booking never touches it.

``last_touches`` is the one implementation of "last touch". ``BookingAttribution`` rows keep
its result per reservation; the receivers below keep them true:

- a reservation is made (any way: the front desk, the admin, the API, the Mews connector, a
  stay recorded as history) → its row is written in the same transaction (``post_save``);
  stays booked several in one statement (the import's chunks: ``bulk_create``, no
  ``post_save``) get theirs from the ``reservation_created`` signal each of them sends;
- a campaign message stops being a touch (sent → undelivered or failed) → the reservations it
  was the last touch of are attributed again (to the touch before it, or none);
- a campaign message becomes a touch while a reservation made after its ``sent_at`` exists (a
  booking committed while the message's status was being written) → those are attributed again;
- two guests are merged → the survivor's reservations are attributed again over the messages
  both had.

Each of these holds its bookers' attribution lock (``bookers_lock``) from before it reads
what decides the rows until its transaction ends, so two of them for one booker at once (on
PostgreSQL, READ COMMITTED: a booking made while its booker's message bounces, two messages
of one booker changing status, a merge or the import's batch meanwhile) follow each other,
and the second reads what the first committed.

The window, the reservation's status, dates and rate are applied when the figures are read
(``campaigns.analytics``). ``manage.py attribution_rebuild`` writes every row again (after an
upgrade, for reservations made before this existed) and ``--check`` compares the stored rows
with the derivation.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver

from channels_out.models import OutboundMessage, Status
from channels_out.signals import message_status_changed
from guests import signals as guest_signals
from guests.models import Guest, Reservation
from guests.selectors import guests_hold

from .models import BookingAttribution, CampaignRun

TOUCHED = (Status.SENT, Status.DELIVERED)
NO_REVENUE = (Reservation.Status.CANCELLED, Reservation.Status.NO_SHOW)

# (reservation pk, booker id, created_at)
ReservationRow = tuple[int, int, dt.datetime]


def attribution_window() -> dt.timedelta:
    return dt.timedelta(days=settings.ATTRIBUTION_WINDOW_DAYS)


def counted(reservations: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
    """``reservations`` (or rows reaching them through ``prefix``) that can bring revenue:
    not cancelled nor a no-show."""
    return reservations.exclude(**{f"{prefix}status__in": NO_REVENUE})


@dataclass(frozen=True)
class Touch:
    """A campaign message that reached a guest (sent or delivered)."""

    message_id: int
    run_id: int
    channel: str
    language: str
    sent_at: dt.datetime


def _run_type() -> ContentType:
    return ContentType.objects.get_for_model(CampaignRun)


_LOCK_NAMESPACE = 0x4154  # "AT": the first key of attribution's advisory locks


def bookers_lock(booker_ids: Iterable[int]) -> None:
    """Hold the attribution lock of each of ``booker_ids`` until the transaction ends.

    PostgreSQL advisory locks, taken in one order (by id). A transaction takes them after
    its row locks on the guests and messages it changes (a booking and a status change hold
    the guests' rows first: ``guests_hold``), never before them, and a message status change
    locks its rows ``FOR NO KEY UPDATE``, so the foreign-key check of an attribution row
    pointing at it does not wait for it: no lock cycle. SQLite runs one
    writing transaction at a time: nothing to lock there.
    """
    keys = sorted({booker % 2**31 for booker in booker_ids})
    if not keys or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, key) FROM unnest(%s::integer[]) AS key",
            [_LOCK_NAMESPACE, keys],
        )


def last_touches(rows: Sequence[ReservationRow]) -> dict[int, Touch]:
    """The last campaign message each reservation's booker was sent at or before it was made
    (ties: the later message), whatever its age; reservations without one are left out.

    One query: every campaign message sent to the bookers up to the last of the bookings
    (bounded on the indexed ``(guest, created_at)`` too: a message is queued before it is
    sent), bisected per booker.
    """
    if not rows:
        return {}
    last = max(created_at for _, _, created_at in rows)
    touches: dict[int, list[tuple[dt.datetime, int, Touch]]] = defaultdict(list)
    for guest_id, sent_at, pk, run, language, channel in (
        OutboundMessage.objects.filter(
            origin_type=_run_type(),
            status__in=TOUCHED,
            guest_id__in={booker for _, booker, _ in rows},
            created_at__lte=last,
            sent_at__lte=last,
        )
        .order_by()
        .values_list("guest_id", "sent_at", "pk", "origin_id", "language", "channel")
    ):
        if run is not None and sent_at is not None:
            touch = Touch(pk, run, channel, language or "", sent_at)
            touches[guest_id].append((sent_at, pk, touch))
    for found in touches.values():
        found.sort(key=lambda item: (item[0], item[1]))
    result = {}
    for pk, booker_id, created_at in rows:
        found = touches.get(booker_id, [])
        index = bisect_right(found, (created_at, float("inf")), key=lambda i: (i[0], i[1])) - 1
        if index >= 0:
            result[pk] = found[index][2]
    return result


def _campaigns_of(touches: Iterable[Touch]) -> dict[int, int]:
    run_ids = {t.run_id for t in touches}
    if not run_ids:
        return {}
    return dict(CampaignRun.objects.filter(pk__in=run_ids).values_list("pk", "campaign_id"))


def _write(rows: Sequence[ReservationRow], *, replace: bool) -> int:
    touches = last_touches(rows)
    campaign_of = _campaigns_of(touches.values())
    if replace:
        BookingAttribution.objects.filter(reservation_id__in=[pk for pk, _, _ in rows]).delete()
    booked = {pk: created_at for pk, _, created_at in rows}
    made = BookingAttribution.objects.bulk_create(
        BookingAttribution(
            reservation_id=pk,
            message_id=touch.message_id,
            run_id=touch.run_id,
            campaign_id=campaign_of[touch.run_id],
            channel=touch.channel,
            language=touch.language,
            touched_at=touch.sent_at,
            booked_at=booked[pk],
        )
        for pk, touch in touches.items()
        if touch.run_id in campaign_of  # a message whose run is gone touches nothing
    )
    return len(made)


@transaction.atomic
def attributions_refresh(reservations: QuerySet[Reservation]) -> int:
    """Write the attribution of ``reservations`` again from the send log; return the rows."""
    bookers_lock(reservations.order_by().values_list("booker_id", flat=True).distinct())
    rows = list(reservations.order_by().values_list("pk", "booker_id", "created_at"))
    return _write(rows, replace=True) if rows else 0


_DONE = "_attribution_written"


def reservation_attribute(reservation: Reservation) -> None:
    """Write a new reservation's attribution (in its transaction), once per instance."""
    if getattr(reservation, _DONE, False):
        return
    # The booker's row first (as a merge or the import takes it), then the attribution lock.
    guests_hold([reservation.booker_id])
    bookers_lock([reservation.booker_id])
    _write([(reservation.pk, reservation.booker_id, reservation.created_at)], replace=False)
    setattr(reservation, _DONE, True)


@receiver(post_save, sender=Reservation, dispatch_uid="campaigns.attribution.created")
def on_reservation_saved(instance: Reservation, created: bool, **kwargs: Any) -> None:
    if created:
        reservation_attribute(instance)


@receiver(
    guest_signals.reservation_created, dispatch_uid="campaigns.attribution.reservation_created"
)
def on_reservation_created(reservation: Reservation, **kwargs: Any) -> None:
    # After post_save for a stay saved alone (nothing more to do); the only one for a stay
    # written in a batch (bulk_create sends no post_save).
    reservation_attribute(reservation)


@receiver(message_status_changed, dispatch_uid="campaigns.attribution.status")
def on_message_status_changed(changes: list[tuple[OutboundMessage, str]], **kwargs: Any) -> None:
    run_type = _run_type().pk
    lost: list[int] = []
    gained: list[OutboundMessage] = []
    for message, was in changes:
        if message.origin_type_id != run_type:
            continue
        touched, was_touched = message.status in TOUCHED, was in TOUCHED
        if was_touched and not touched:
            lost.append(message.pk)
        elif touched and not was_touched and message.sent_at is not None:
            gained.append(message)
    if not lost and not gained:
        return
    # The messages are locked by this transaction, so their guests stay theirs until it ends;
    # read again (a merge may have moved them since they were loaded).
    guest_of = dict(
        OutboundMessage.objects.filter(
            pk__in=[*lost, *(m.pk for m in gained)], guest__isnull=False
        ).values_list("pk", "guest_id")
    )
    bookers_lock(guest_of.values())
    affected = Q()
    if lost:
        affected |= Q(
            pk__in=BookingAttribution.objects.filter(message_id__in=lost).values("reservation_id")
        )
    for message in gained:
        if message.pk in guest_of:
            affected |= Q(booker_id=guest_of[message.pk], created_at__gte=message.sent_at)
    if affected:
        attributions_refresh(Reservation.objects.filter(affected))


@receiver(guest_signals.guests_merged, dispatch_uid="campaigns.attribution.merged")
def on_guests_merged(target: Guest, **kwargs: Any) -> None:
    bookers_lock([target.pk])  # also when the survivor has no reservation yet: one being made
    attributions_refresh(Reservation.objects.filter(booker=target))


def booked_within_window(attributions: QuerySet[BookingAttribution]) -> QuerySet:
    """Stored attributions that count: inside the window, for a reservation that brings revenue."""
    return counted(
        attributions.filter(touched_at__gt=F("booked_at") - attribution_window()),
        prefix="reservation__",
    )
