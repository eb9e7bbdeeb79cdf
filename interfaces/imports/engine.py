"""The import of one table (I3), through the guests' upsert services, 500 rows at a time.

A row's guest is found by the id the file gives him in its source system (``guest_upsert``),
else by e-mail, else by phone (read in the hotel's region) (``guest_apply``); a reservation by
its id in the source system (``reservation_upsert``). Consents are written only from a column
that states them, and only when they change the guest's current statement. A chunk's rows
are looked up together and, where the lookups answer them, written together by the upserts'
batch writers (``_Chunk``): the outcome of every row is what the upserts one by one give.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models.functions import Upper
from django.utils.translation import gettext_noop

from crm_messaging.actors import Actor
from crm_messaging.i18n import Phrase, error_phrases
from guests import services
from guests.models import (
    BoardType,
    ConsentSource,
    Guest,
    GuestExternalId,
    Hotel,
    Reservation,
    ReservationExternalId,
    RoomType,
)
from guests.selectors import consent_current_of

from .fields import RESERVATIONS
from .reading import Table
from .report import CREATED, ERROR, UNCHANGED, UPDATED, ImportReport
from .rows import ParsedRow, parse_row

T = TypeVar("T")


class _References:
    """Room types and boards by code or name (case-insensitive), read once per import."""

    def __init__(self) -> None:
        self.room_types = self._index(RoomType.objects.all())
        self.board_types = self._index(BoardType.objects.all())

    @staticmethod
    def _index(items: Any) -> dict[str, Any]:
        index: dict[str, Any] = {}
        for item in items:
            index.setdefault(item.name.casefold(), item)
            index[item.code.casefold()] = item
        return index

    def resolve(self, row: ParsedRow) -> None:
        for key, index, label in (
            ("room_type", self.room_types, Phrase(gettext_noop("Room type"))),
            ("board_type", self.board_types, Phrase(gettext_noop("Board"))),
        ):
            if key not in row.reservation:
                continue
            found = index.get(str(row.reservation[key]).casefold())
            if found is None:
                row.errors.append(
                    Phrase(
                        gettext_noop(
                            "%(field)s: “%(value)s” is not one of this hotel's (%(known)s)"
                        ),
                        {
                            "field": label,
                            "value": str(row.reservation[key]),
                            "known": ", ".join(sorted({i.code for i in index.values()})),
                        },
                    )
                )
            else:
                row.reservation[key] = found


# Rows read, looked up and written together: one query finds a chunk's known guests and
# stays, one statement a table writes its new rows.
CHUNK_ROWS = 500


def import_table(
    *,
    table: Table,
    kind: str,
    source: str,
    mapping: dict[str, str],
    user: Actor = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import every row of ``table``; with ``dry_run`` roll it all back and only report."""
    report = ImportReport(kind=kind, dry_run=dry_run)
    references = _References() if kind == RESERVATIONS else None
    hotel = Hotel.load() if kind == RESERVATIONS else None
    with transaction.atomic():
        for chunk in _chunks(table.records(), CHUNK_ROWS):
            rows = []
            for line, record in chunk:
                row = parse_row(line, record, mapping)
                if references is not None:
                    references.resolve(row)
                rows.append(row)
            run = _Chunk(rows, kind=kind, source=source, user=user, hotel=hotel)
            try:
                with transaction.atomic():
                    results = run.apply(batched=True)
            except DatabaseError:
                # A key another writer took meanwhile (or any refusal of a batch statement):
                # the chunk again, row by row, each through the upserts that handle it.
                results = run.apply(batched=False)
            for result in results:
                report.add(*result)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class _Chunk:
    """Up to CHUNK_ROWS rows, applied in file order as the upserts apply them one by one.

    A row the chunk's lookups fully answer — a new or known guest, a new plain stay, a known
    stay the row leaves as it is — is checked by the upserts' own checks and written with the
    others at the end (``guests_save_upserted``, ``reservations_save_upserted``: the same rows,
    audit entries and signals). Any other row (a status move, a changed stay, a key an earlier
    row of the chunk used, a guest an earlier row found) first writes what is pending, then
    goes through the upserts alone, inside its savepoint.
    """

    def __init__(
        self, rows: list[ParsedRow], *, kind: str, source: str, user: Actor, hotel: Hotel | None
    ) -> None:
        self.rows, self.kind, self.source, self.user, self.hotel = rows, kind, source, user, hotel

    def apply(self, *, batched: bool) -> list[tuple[int, str, str, str | list[Phrase]]]:
        results: list[tuple[int, str, str, str | list[Phrase]]] = []
        if batched:
            self._look_up()
        self.new_guests: list[services.NewGuest] = []
        self.changed_guests: list[services.ChangedGuest] = []
        self.new_stays: list[tuple[str, str, Reservation]] = []
        seen: set[tuple[str, str]] = set()
        self.touched: set[int] = set()
        for row in self.rows:
            if row.errors:
                results.append(
                    (row.line, ERROR, row.label, row.refused([*row.errors, *_profile_errors(row)]))
                )
                continue
            keys = self._keys(row)
            fast = batched and not keys & seen
            seen |= keys
            try:
                outcome = self._apply_batched(row) if fast else None
                if outcome is None:
                    self._write()
                    outcome = self._apply_alone(row)
            except RowRefused as exc:
                results.append((row.line, ERROR, row.label, row.refused([exc.phrase])))
            except ValidationError as exc:
                # The services' own refusals, kept in no language: read in the reader's.
                results.append((row.line, ERROR, row.label, row.refused(error_phrases(exc))))
            else:
                results.append((row.line, outcome, row.label, row.notes))
        self._write()
        return results

    @staticmethod
    def _keys(row: ParsedRow) -> set[tuple[str, str]]:
        keys = {
            (name, str(value).casefold())
            for name, value in (
                ("guest", row.guest.get("guest_id")),
                ("email", row.guest.get("email")),
                ("phone", row.guest.get("phone")),
                ("stay", row.reservation.get("reservation_id")),
            )
            if value
        }
        return keys

    def _look_up(self) -> None:
        """The chunk's known guests (by id, e-mail, phone, locked as the upserts lock them),
        their consents and its known stays, in a few queries."""
        rows = [row for row in self.rows if not row.errors]
        guest_ids = {row.guest["guest_id"] for row in rows if row.guest.get("guest_id")}
        self.by_id = {
            ref.external_id: ref.guest
            for ref in GuestExternalId.objects.select_for_update(of=("self",))
            .select_related("guest")
            .filter(source=self.source, external_id__in=guest_ids)
        }
        unkeyed = [row for row in rows if not row.guest.get("guest_id")]
        emails = {row.guest["email"] for row in unkeyed if row.guest.get("email")}
        phones = {row.guest["phone"] for row in unkeyed if row.guest.get("phone")}
        self.by_email: dict[str, list[Guest]] = {}
        self.email_key: dict[str, str] = {}
        if emails:
            # The e-mail matches as ``email__iexact`` does: the database's UPPER on both sides.
            with connection.cursor() as cursor:
                cursor.execute("SELECT x, UPPER(x) FROM unnest(%s::text[]) AS x", [list(emails)])
                self.email_key = dict(cursor.fetchall())
            for matched in (
                Guest.objects.select_for_update()  # as guest_apply locks the guest it finds
                .annotate(key=Upper("email"))
                .filter(key__in=set(self.email_key.values()))
                .order_by("pk")
            ):
                self.by_email.setdefault(matched.key, []).append(matched)
        self.by_phone: dict[str, list[Guest]] = {}
        by_phone = Guest.objects.select_for_update().filter(phone__in=phones, phone_valid=True)
        for guest in by_phone.order_by("pk"):
            self.by_phone.setdefault(guest.phone, []).append(guest)
        known = [*self.by_id.values(), *itertools.chain(*self.by_email.values())]
        known += itertools.chain(*self.by_phone.values())
        self.consents = consent_current_of([guest.pk for guest in known])
        stay_ids = {
            row.reservation["reservation_id"]
            for row in rows
            if row.reservation.get("reservation_id")
        }
        self.known_stays = {
            ref.external_id: ref.reservation
            for ref in ReservationExternalId.objects.select_for_update(of=("self",))
            .select_related("reservation")
            .filter(source=self.source, external_id__in=stay_ids)
        }

    def _apply_batched(self, row: ParsedRow) -> str | None:
        """The row's outcome with its writes left pending; None if it must go alone."""
        guest_id = row.guest.get("guest_id")
        if guest_id:
            guest = self.by_id.get(guest_id)
        else:
            email = row.guest.get("email")
            guest = _pick_guest(
                self.by_email.get(self.email_key.get(email, ""), []) if email else [],
                self.by_phone.get(row.guest.get("phone") or "", []),
            )
        data = _guest_data(row)
        new_guest = changed_guest = None
        if guest is not None:
            if guest.pk in self.touched:
                return None
            # Whatever comes of this row, a later one finds this guest through the database.
            self.touched.add(guest.pk)
            changed_guest = services.guest_upsert_changes(
                guest,
                data=data,
                current_consents=self.consents.get(guest.pk, {}),
                actor=self.user,
                **_OPTIONS,
            )
            outcome = UPDATED if changed_guest.changed else UNCHANGED
        else:
            new_guest = services.guest_upsert_new(
                data=data,
                source=self.source if guest_id else "",
                external_id=guest_id or "",
                actor=self.user,
                **_OPTIONS,
            )
            guest, outcome = new_guest.guest, CREATED
        if self.kind == RESERVATIONS:
            assert self.hotel is not None
            reference = row.reservation["reservation_id"]
            known = self.known_stays.get(reference)
            if known is not None:
                if services.reservation_upsert_would_change(
                    known, source=self.source, data=_stay_data(row, guest)
                ):
                    return None
                outcome = _row_outcome(outcome, UNCHANGED)
            else:
                stay = services.reservation_upsert_new(
                    source=self.source,
                    external_id=reference,
                    data=_stay_data(row, guest),
                    hotel=self.hotel,
                )
                if stay is None:
                    return None
                self.new_stays.append((self.source, reference, stay))
                outcome = _row_outcome(outcome, CREATED)
        if new_guest is not None:
            self.new_guests.append(new_guest)
        if changed_guest is not None and changed_guest.changed:
            self.changed_guests.append(changed_guest)
        return outcome

    def _apply_alone(self, row: ParsedRow) -> str:
        # A guests row is one upsert, atomic of its own; a reservations row is two (the
        # guest, the stay) that stand or fall together.
        row_savepoint = transaction.atomic() if self.kind == RESERVATIONS else nullcontext()
        with row_savepoint:
            guest, outcome = _upsert_guest(row, source=self.source, user=self.user)
            if self.kind == RESERVATIONS:
                _stay, stay_outcome = services.reservation_upsert(
                    source=self.source,
                    external_id=row.reservation["reservation_id"],
                    data=_stay_data(row, guest),
                    actor=self.user,
                )
                outcome = _row_outcome(outcome, stay_outcome)
        self.touched.add(guest.pk)
        return outcome

    def _write(self) -> None:
        """Write the pending rows (guests first: the stays name them)."""
        if self.new_guests or self.changed_guests:
            services.guests_save_upserted(self.new_guests, self.changed_guests, actor=self.user)
        if self.new_stays:
            assert self.hotel is not None
            services.reservations_save_upserted(self.new_stays, hotel=self.hotel, actor=self.user)
        self.new_guests, self.changed_guests, self.new_stays = [], [], []


class RowRefused(ValidationError):
    """A row the import itself refuses; ``phrase`` says why, in no language."""

    def __init__(self, phrase: Phrase) -> None:
        self.phrase = phrase
        super().__init__(phrase.english())


def _pick_guest(by_email: list[Guest], by_phone: list[Guest]) -> Guest | None:
    """The profile a row without a guest id means, among the guests with its e-mail, else
    those with its phone (in id order); several is an error."""
    for what, found in ((gettext_noop("e-mail"), by_email), (gettext_noop("phone"), by_phone)):
        if len(found) > 1:
            raise RowRefused(
                Phrase(
                    gettext_noop(
                        "Several guests have this %(what)s: give the guest id column to tell them apart."
                    ),
                    {"what": Phrase(what)},
                )
            )
        if found:
            return found[0]
    return None


def _find_guest(row: ParsedRow) -> Guest | None:
    """The profile a row without a guest id means: the one with its e-mail, else its phone."""
    email, phone = row.guest.get("email"), row.guest.get("phone")
    by_email = list(Guest.objects.filter(email__iexact=email).order_by("pk")[:2]) if email else []
    by_phone = (
        list(Guest.objects.filter(phone=phone, phone_valid=True).order_by("pk")[:2])
        if phone and not by_email
        else []
    )
    return _pick_guest(by_email, by_phone)


def _stay_data(row: ParsedRow, guest: Guest) -> dict[str, Any]:
    data = {key: value for key, value in row.reservation.items() if key != "reservation_id"}
    return {**data, "booker": guest}


def _row_outcome(guest_outcome: str, stay_outcome: str) -> str:
    # The row is about the stay: a new stay is "created" even for a known guest.
    if stay_outcome == CREATED or guest_outcome == UNCHANGED:
        return stay_outcome
    return guest_outcome


def _consents(row: ParsedRow) -> list[dict[str, Any]]:
    return [
        {"purpose": purpose, "channel": channel, "granted": granted}
        for purpose, channel, granted in row.consents
    ]


# How an import writes a guest: consents stated by the file's columns; an unreadable phone
# kept as given and marked invalid (never dialled).
_OPTIONS: dict[str, Any] = {"consent_source": ConsentSource.IMPORT, "strict_phone": False}


def _profile_errors(row: ParsedRow) -> list[Phrase]:
    """What the guest services would refuse besides, in a row refused for its cells (a bad
    e-mail beside a bad date), so the report names every problem at once: the profile the
    row states, checked as the import checks a new guest (``guest_upsert_new``, nothing
    written); the fields already reported — an unreadable cell, the first name — left out."""
    profile = {k: v for k, v in row.guest.items() if k != "guest_id" and k not in row.unreadable}
    # The first name is reported already; a stand-in lets the checks go on past it.
    profile["first_name"] = profile.get("first_name") or "?"
    try:
        services.guest_upsert_new(data=profile, **_OPTIONS)
    except ValidationError as exc:
        reported = row.unreadable | {"first_name"}
        rest = {f: e for f, e in exc.error_dict.items() if f not in reported}
        return error_phrases(ValidationError(rest)) if rest else []
    return []


def _guest_data(row: ParsedRow) -> dict[str, Any]:
    data = {key: value for key, value in row.guest.items() if key != "guest_id"}
    data["consents"] = _consents(row)
    return data


def _upsert_guest(row: ParsedRow, *, source: str, user: Actor) -> tuple[Guest, str]:
    """The row's guest, created or brought in line with the row: by his id in the source,
    else the profile with his e-mail or phone. Consents only as the row's columns state them."""
    data = _guest_data(row)
    guest_id = row.guest.get("guest_id")
    if guest_id:
        return services.guest_upsert(
            source=source, external_id=guest_id, data=data, actor=user, **_OPTIONS
        )
    return services.guest_apply(guest=_find_guest(row), data=data, actor=user, **_OPTIONS)
