"""The import of one table (I3), row by row, through the guests' upsert services.

A row's guest is found by the id the file gives him in its source system (``guest_upsert``),
else by e-mail, else by phone (read in the hotel's region) (``guest_apply``); a reservation by
its id in the source system (``reservation_upsert``). Consents are written only from a column
that states them, and only when they change the guest's current statement.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from crm_messaging.actors import Actor
from guests.models import BoardType, ConsentSource, Guest, RoomType
from guests.services import guest_apply, guest_upsert, reservation_upsert

from .fields import RESERVATIONS
from .reading import Table
from .report import CREATED, ERROR, UNCHANGED, ImportReport
from .rows import ParsedRow, parse_row


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
            ("room_type", self.room_types, _("Room type")),
            ("board_type", self.board_types, _("Board")),
        ):
            if key not in row.reservation:
                continue
            found = index.get(str(row.reservation[key]).casefold())
            if found is None:
                row.errors.append(
                    _("%(field)s: “%(value)s” is not one of this hotel's (%(known)s)")
                    % {
                        "field": label,
                        "value": row.reservation[key],
                        "known": ", ".join(sorted({i.code for i in index.values()})),
                    }
                )
            else:
                row.reservation[key] = found


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
    with transaction.atomic():
        for line, record in table.records():
            row = parse_row(line, record, mapping)
            if references is not None:
                references.resolve(row)
            if row.errors:
                report.add(line, ERROR, row.label, "; ".join(row.errors))
                continue
            # A guests row is one upsert, atomic of its own; a reservations row is two (the
            # guest, the stay) that stand or fall together.
            row_savepoint = transaction.atomic() if kind == RESERVATIONS else nullcontext()
            try:
                with row_savepoint:
                    outcome = _apply_row(row, kind=kind, source=source, user=user)
            except ValidationError as exc:
                report.add(line, ERROR, row.label, " ".join(exc.messages))
            else:
                report.add(line, outcome, row.label, "; ".join(row.notes))
        if dry_run:
            transaction.set_rollback(True)
    return report


def _find_guest(row: ParsedRow) -> Guest | None:
    """The profile a row without a guest id means: the one with its e-mail, else its phone."""
    email, phone = row.guest.get("email"), row.guest.get("phone")
    for what, query in (
        (_("e-mail"), Q(email__iexact=email) if email else None),
        (_("phone"), Q(phone=phone, phone_valid=True) if phone else None),
    ):
        if query is None:
            continue
        found = list(Guest.objects.filter(query).order_by("pk")[:2])
        if len(found) > 1:
            raise ValidationError(
                _("Several guests have this %(what)s: give the guest id column to tell them apart.")
                % {"what": what}
            )
        if found:
            return found[0]
    return None


def _apply_row(row: ParsedRow, *, kind: str, source: str, user: Actor) -> str:
    guest, outcome = _upsert_guest(row, source=source, user=user)
    if kind != RESERVATIONS:
        return outcome
    data = {key: value for key, value in row.reservation.items() if key != "reservation_id"}
    _stay, stay_outcome = reservation_upsert(
        source=source,
        external_id=row.reservation["reservation_id"],
        data={**data, "booker": guest},
        actor=user,
    )
    # The row is about the stay: a new stay is "created" even for a known guest.
    if stay_outcome == CREATED or outcome == UNCHANGED:
        outcome = stay_outcome
    return outcome


def _consents(row: ParsedRow) -> list[dict[str, Any]]:
    return [
        {"purpose": purpose, "channel": channel, "granted": granted}
        for purpose, channel, granted in row.consents
    ]


def _upsert_guest(row: ParsedRow, *, source: str, user: Actor) -> tuple[Guest, str]:
    """The row's guest, created or brought in line with the row: by his id in the source,
    else the profile with his e-mail or phone. Consents only as the row's columns state them."""
    data = {key: value for key, value in row.guest.items() if key != "guest_id"}
    guest_id = row.guest.get("guest_id")
    options: dict[str, Any] = {
        "actor": user,
        "consent_source": ConsentSource.IMPORT,
        # An unreadable phone is kept as given and marked invalid (never dialled).
        "strict_phone": False,
    }
    data["consents"] = _consents(row)
    if guest_id:
        return guest_upsert(source=source, external_id=guest_id, data=data, **options)
    return guest_apply(guest=_find_guest(row), data=data, **options)
