"""One file row → the values of a guest, his stated consents and (for reservations) a stay.

Reading never writes; every cell that cannot be read is collected, so a row's report names
all its problems at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_noop

from crm_messaging.i18n import Phrase
from crm_messaging.phones import InvalidPhone, normalise_phone

from .fields import CONSENT_FIELDS, FIELDS_BY_KEY, CellError


@dataclass
class ParsedRow:
    line: int
    guest: dict[str, Any] = field(default_factory=dict)
    consents: list[tuple[str, str, bool]] = field(
        default_factory=list
    )  # (purpose, channel, granted)
    reservation: dict[str, Any] = field(default_factory=dict)
    # In no language: the report is stored and read later, by staff of either language.
    errors: list[Phrase] = field(default_factory=list)
    notes: list[Phrase] = field(default_factory=list)  # kept, but worth a word in the report
    # Why the phone cannot be dialled: a note when the row is imported, an error when it is not.
    phone_problem: Phrase | None = None
    unreadable: set[str] = field(default_factory=set)  # the fields whose cell could not be read

    def refused(self, errors: list[Phrase]) -> list[Phrase]:
        """Every reason the row is not imported: ``errors`` (the row's own, or those the
        services gave), and the phone that could not be read, which the row would have kept
        as given had it been imported."""
        if self.phone_problem is None:
            return errors
        phone = FIELDS_BY_KEY["phone"].label
        return [
            *errors,
            Phrase(
                gettext_noop("%(field)s: %(reason)s"),
                {"field": phone, "reason": self.phone_problem},
            ),
        ]

    @property
    def label(self) -> str:
        name = f"{self.guest.get('first_name', '')} {self.guest.get('last_name', '')}".strip()
        reference = self.reservation.get("reservation_id", "")
        return f"{reference} {name}".strip() if reference else name


def parse_row(line: int, record: dict[str, str], mapping: dict[str, str]) -> ParsedRow:
    """Read the mapped cells of one record; empty cells are left out (not given)."""
    row = ParsedRow(line=line)
    for key, column in mapping.items():
        raw = (record.get(column) or "").strip()
        if not raw or key not in FIELDS_BY_KEY:
            continue
        item = FIELDS_BY_KEY[key]
        try:
            value = item.parse(raw)
        except CellError as exc:
            row.errors.append(
                Phrase(
                    gettext_noop("%(field)s: %(reason)s"),
                    {"field": item.label, "reason": exc.phrase},
                )
            )
            row.unreadable.add(key)
            continue
        if key in CONSENT_FIELDS:
            row.consents.append((*CONSENT_FIELDS[key], value))
        elif item.group == "reservation":
            row.reservation[key] = value
        else:
            row.guest[key] = value
    if "phone" in row.guest:
        raw_phone = row.guest["phone"]
        try:
            # Read in the hotel's region: "0532 123 45 67" is a Turkish mobile in Antalya.
            row.guest["phone"] = normalise_phone(raw_phone)
        except InvalidPhone as exc:
            row.phone_problem = exc.why
            row.notes.append(
                Phrase(
                    gettext_noop("Phone kept as given, never dialled: %(reason)s"),
                    {"reason": exc.why},
                )
            )
    if "first_name" not in row.guest and "first_name" not in row.unreadable:
        row.errors.append(Phrase(gettext_noop("The first name is empty.")))
    return row
