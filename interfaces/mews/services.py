"""Keeping guests and stays in step with a Mews property (I4): receive and process webhooks,
pull by ``UpdatedUtc`` window, apply each Mews record once through the guests' upserts.

Every record is applied under a lock on its ``MewsRecord`` row, and only when its
``UpdatedUtc`` is newer than the version applied before: when a webhook and a pull bring the
same change, the second finds it applied and changes nothing; an older version fetched before
a newer one was applied never undoes it. Status moves go through the reservation services, so
a check-in in Mews fires the same check-in trigger as the front desk — once.

Who stays in a reservation (companionships/getAll) is read with it every time and set as its
companions (the front desk's add/remove), versioned or not; its requested resource category
becomes the room type and its assigned resource's name the room number.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm_messaging.handoff import hand_off_on_commit
from guests.models import Reservation, RoomType
from guests.selectors import guest_by_external_id, reservation_by_external_id
from guests.services import guest_upsert, reservation_upsert

from .client import MewsClient, MewsError, parse_utc
from .mapping import (
    NOT_BOOKED,
    category_labels,
    customer_data,
    localized,
    reservation_data,
    reservation_status,
    room_number,
)
from .models import MewsConnection, MewsRecord, MewsWebhook

logger = logging.getLogger(__name__)

SOURCE = "mews"
# Each pull re-reads a little of the previous window: Mews may stamp a change a moment
# before it becomes readable.
OVERLAP = dt.timedelta(minutes=5)
FIRST_PULL = dt.timedelta(days=1)  # how far back a new connection's first pull looks
MAX_WINDOW = dt.timedelta(days=90)  # UpdatedUtc windows are "max length 3 months"
Status = Reservation.Status
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass
class SyncReport:
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def client_for(connection: MewsConnection) -> MewsClient:
    return MewsClient(
        platform_url=connection.platform_url,
        client_token=str(connection.client_token or ""),
        access_token=str(connection.access_token or ""),
        client=connection.client_name,
        enterprise_id=connection.enterprise_id,
    )


def mews_webhook_receive(*, connection: MewsConnection, payload: dict[str, Any]) -> MewsWebhook:
    """Store a General Webhook message and hand its processing to a task after commit."""
    with transaction.atomic():
        webhook = MewsWebhook.objects.create(connection=connection, payload=payload)
        hand_off_on_commit("mews.process_webhook", webhook.pk)
    return webhook


def _event_ids(payload: dict[str, Any], *discriminators: str) -> list[str]:
    ids: list[str] = []
    for event in payload.get("Events") or []:
        if not isinstance(event, dict) or event.get("Discriminator") not in discriminators:
            continue
        value = event.get("Value")
        entity = value.get("Id") if isinstance(value, dict) else None
        if isinstance(entity, str) and entity not in ids:  # Added and Updated: fetch once
            ids.append(entity)
    return ids


def mews_webhook_process(*, webhook: MewsWebhook) -> SyncReport:
    """Fetch the reservations and customers a webhook names and apply them; raise MewsError."""
    connection = webhook.connection
    client = client_for(connection)
    reservation_ids = _event_ids(webhook.payload, "ServiceOrderUpdated")
    customer_ids = _event_ids(webhook.payload, "CustomerAdded", "CustomerUpdated")
    try:
        reservations = list(client.reservations(ids=reservation_ids)) if reservation_ids else []
        report = _apply(connection, client, reservations=reservations, customer_ids=customer_ids)
    except MewsError as exc:
        # A refusal retrying cannot help (revoked tokens) ends here; the pull catches up later.
        done = timezone.now() if exc.permanent else None
        MewsWebhook.objects.filter(pk=webhook.pk).update(error=str(exc)[:255], processed_at=done)
        raise
    MewsWebhook.objects.filter(pk=webhook.pk).update(
        processed_at=timezone.now(), error="; ".join(report.errors)[:255]
    )
    return report


def mews_pull(*, connection: MewsConnection, now: dt.datetime | None = None) -> SyncReport:
    """Apply what changed in Mews since the connection's cursor, window by window; each
    window done moves the cursor (kept in the database), so a failure resumes there."""
    now = now or timezone.now()
    if now.microsecond:  # Mews reads whole seconds: end after now, not before it
        now = now.replace(microsecond=0) + dt.timedelta(seconds=1)
    start = (connection.pulled_until - OVERLAP) if connection.pulled_until else now - FIRST_PULL
    client = client_for(connection)
    total = SyncReport()
    try:
        while start < now:
            end = min(start + MAX_WINDOW, now)
            window = (start, end)
            report = _apply(
                connection,
                client,
                reservations=list(client.reservations(updated=window)),
                customer_ids=[c["Id"] for c in client.customers(updated=window)],
            )
            total.counts.update(report.counts)
            total.errors.extend(report.errors)
            MewsConnection.objects.filter(pk=connection.pk).update(
                pulled_until=end, last_pull_at=timezone.now(), last_error=""
            )
            connection.pulled_until = end
            start = end
    except MewsError as exc:
        MewsConnection.objects.filter(pk=connection.pk).update(last_error=str(exc)[:255])
        raise
    return total


def _apply(
    connection: MewsConnection,
    client: MewsClient,
    *,
    reservations: list[dict[str, Any]],
    customer_ids: Iterable[str],
) -> SyncReport:
    """Apply customers first (a stay needs its guest and its companions), then the
    reservations with their companions, room category and room.

    Every customer is fetched once (customers/getAll by id), whether a webhook names it, it
    owns a reservation or stays in one as a companion."""
    report = SyncReport()
    companions = _companions_by_reservation(client, reservations)
    accounts = (r.get("AccountId") for r in reservations)
    staying = (customer for ids in companions.values() for customer in ids)
    wanted = [i for i in dict.fromkeys([*customer_ids, *accounts, *staying]) if isinstance(i, str)]
    for customer in client.customers(ids=wanted) if wanted else []:
        _once(connection, MewsRecord.Kind.CUSTOMER, customer, _customer_applier(customer), report)
    rooms = _Rooms.fetch(client, reservations)
    for record in reservations:
        mews_id = record.get("Id")
        companion_ids = companions.get(mews_id, []) if isinstance(mews_id, str) else []
        # Outside the record's transaction: a room type made here is kept for the next ones.
        room_type = rooms.room_type(record.get("RequestedResourceCategoryId"))
        number = rooms.numbers.get(record.get("AssignedResourceId") or "", "")
        _once(
            connection,
            MewsRecord.Kind.RESERVATION,
            record,
            _reservation_applier(connection, record, companion_ids, room_type, number),
            report,
            again=_companions_applier(record, companion_ids),
        )
    return report


def _companions_by_reservation(
    client: MewsClient, reservations: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """Mews reservation id → the customers staying in it (companionships/getAll), in order,
    each once."""
    ids = [r["Id"] for r in reservations if isinstance(r.get("Id"), str)]
    found: dict[str, list[str]] = {i: [] for i in ids}
    for link in client.companionships(reservation_ids=ids) if ids else []:
        reservation_id, customer_id = link.get("ReservationId"), link.get("CustomerId")
        if not isinstance(customer_id, str) or reservation_id not in found:
            continue
        if customer_id not in found[reservation_id]:
            found[reservation_id].append(customer_id)
    return found


@dataclass
class _Rooms:
    """The resource categories and resources (rooms) the reservations name, fetched once."""

    categories: dict[str, dict[str, Any]]
    numbers: dict[str, str]
    room_types: dict[str, RoomType | None] = field(default_factory=dict)

    @classmethod
    def fetch(cls, client: MewsClient, reservations: list[dict[str, Any]]) -> _Rooms:
        def distinct(key: str) -> list[str]:
            return list(dict.fromkeys(r[key] for r in reservations if isinstance(r.get(key), str)))

        category_ids, service_ids = distinct("RequestedResourceCategoryId"), distinct("ServiceId")
        resource_ids = distinct("AssignedResourceId")
        categories = (
            {
                c["Id"]: c
                for c in client.resource_categories(ids=category_ids, service_ids=service_ids)
                if isinstance(c.get("Id"), str)
            }
            if category_ids and service_ids
            else {}
        )
        numbers = (
            {
                r["Id"]: room_number(r)
                for r in client.resources(ids=resource_ids)
                if isinstance(r.get("Id"), str)
            }
            if resource_ids
            else {}
        )
        return cls(categories=categories, numbers=numbers)

    def room_type(self, category_id: Any) -> RoomType | None:
        if not isinstance(category_id, str) or category_id not in self.categories:
            return None
        if category_id not in self.room_types:
            self.room_types[category_id] = mews_room_type(self.categories[category_id])
        return self.room_types[category_id]


def mews_room_type(category: dict[str, Any]) -> RoomType | None:
    """Our room type for a Mews resource category: the one whose code or name is one of the
    category's names or short names (any language, any case); else a new one, named in the
    hotel's language, its code the short name. None for a category without a name."""
    labels = category_labels(category)
    if not labels:
        return None
    folded = {label.casefold() for label in labels}
    known = list(RoomType.objects.all())
    for matches in (
        lambda t: t.code.casefold() in folded,
        lambda t: t.name.casefold() in folded,
    ):
        found = next((t for t in known if matches(t)), None)
        if found is not None:
            return found
    language = settings.HOTEL_DEFAULT_LANGUAGE
    name = localized(category.get("Names"), language) or labels[0]
    short = localized(category.get("ShortNames"), language) or name
    taken = {t.code.casefold() for t in known}
    code, suffix = short[:20], 2
    while code.casefold() in taken:
        code = f"{short[:16]}-{suffix}"
        suffix += 1
    room_type, created = RoomType.objects.get_or_create(code=code, defaults={"name": name[:100]})
    if created:
        logger.info("Added room type %s (%s) for Mews category %s", code, name, category.get("Id"))
    return room_type


def _once(
    connection: MewsConnection,
    kind: str,
    item: dict[str, Any],
    apply: Callable[[], str],
    report: SyncReport,
    *,
    again: Callable[[], str] | None = None,
) -> None:
    """Apply ``item`` if its version is newer than the one applied; otherwise run ``again``
    (what is read afresh each time, not versioned by the item: a reservation's companions)."""
    mews_id, updated = item.get("Id"), parse_utc(item.get("UpdatedUtc"))
    if not isinstance(mews_id, str) or updated is None:
        report.counts["malformed"] += 1
        return
    with transaction.atomic():
        MewsRecord.objects.get_or_create(
            connection=connection, kind=kind, mews_id=mews_id, defaults={"updated_utc": EPOCH}
        )
        seen = MewsRecord.objects.select_for_update().get(
            connection=connection, kind=kind, mews_id=mews_id
        )
        if seen.updated_utc >= updated:
            report.counts["already applied"] += 1
            if again is not None:
                try:
                    with transaction.atomic():
                        outcome = again()
                except ValidationError as exc:
                    error = f"{kind} {mews_id}: {' '.join(exc.messages)}"[:255]
                    report.errors.append(error)
                    logger.warning("Mews %s", error)
                else:
                    if outcome == "updated":
                        report.counts["companions updated"] += 1
            return
        error = ""
        try:
            with transaction.atomic():
                report.counts[apply()] += 1
        except ValidationError as exc:
            error = f"{kind} {mews_id}: {' '.join(exc.messages)}"[:255]
            report.counts["refused"] += 1
            report.errors.append(error)
            logger.warning("Mews %s", error)
        seen.updated_utc, seen.applied_at, seen.error = updated, timezone.now(), error
        seen.save(update_fields=["updated_utc", "applied_at", "error"])


def _customer_applier(customer: dict[str, Any]) -> Callable[[], str]:
    def apply() -> str:
        _guest, outcome = guest_upsert(
            source=SOURCE,
            external_id=customer["Id"],
            data=customer_data(customer),
            # A number Mews holds that we cannot read is kept, marked invalid, never dialled.
            strict_phone=False,
        )
        return outcome

    return apply


def _known_guests(customer_ids: list[str]) -> list[str]:
    """The companions that are guests here (a customer Mews refused to give is left out)."""
    return [c for c in customer_ids if guest_by_external_id(source=SOURCE, external_id=c)]


def _companions_applier(record: dict[str, Any], companion_ids: list[str]) -> Callable[[], str]:
    """Set the stay's companions to those staying in it in Mews (the version is applied)."""

    def apply() -> str:
        if reservation_by_external_id(source=SOURCE, external_id=record["Id"]) is None:
            return "not here"
        _stay, outcome = reservation_upsert(
            source=SOURCE,
            external_id=record["Id"],
            data={"companions": _known_guests(companion_ids)},
        )
        return outcome

    return apply


def _reservation_applier(
    connection: MewsConnection,
    record: dict[str, Any],
    companion_ids: list[str],
    room_type: RoomType | None,
    number: str,
) -> Callable[[], str]:
    def apply() -> str:
        status = reservation_status(record)
        exists = reservation_by_external_id(source=SOURCE, external_id=record["Id"]) is not None
        if status is None:
            return "not booked yet" if record.get("State") in NOT_BOOKED else "unknown state"
        data: dict[str, Any] = {
            **reservation_data(record),
            "booker": str(record.get("AccountId") or ""),
            "status": status,
            # Everyone staying, as Mews lists them (the owner among them is the booker):
            # added and taken off through the same service as the front desk's.
            "companions": _known_guests(companion_ids),
        }
        if status in (Status.CANCELLED, Status.NO_SHOW):
            data["cancel_reason"] = str(record.get("CancellationReason") or "")
        # The requested category as our room type, the assigned room's name as its number.
        if room_type is not None:
            data["room_type"] = room_type
        elif not exists:
            data["room_type"] = connection.room_type  # a category Mews would not name
        data["room_number"] = number
        if not exists:
            # Rates are the property's own list: new stays get the connection's board; a
            # change made here afterwards stays.
            data["board_type"] = connection.board_type
        _stay, outcome = reservation_upsert(source=SOURCE, external_id=record["Id"], data=data)
        return outcome

    return apply
