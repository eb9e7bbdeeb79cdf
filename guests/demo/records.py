"""The plain records a demo plan is made of; ``builder`` turns each into rows via the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..models import FacilityBooking, Guest, Reservation


@dataclass(frozen=True)
class Consent:
    purpose: str
    channel: str
    granted: bool
    source: str
    at: dt.datetime
    wording_version: str = ""
    note: str = ""


@dataclass(frozen=True)
class Greylisting:
    reason: str
    created: dt.datetime
    expires: dt.datetime | None
    lifted: dt.datetime | None = None
    lift_reason: str = ""


@dataclass(eq=False)
class Person:
    key: int
    first_name: str
    last_name: str
    latin: tuple[str, str]
    language: str
    nationality: str
    gender: str
    birth_date: dt.date | None
    surname_index: int = 0
    minor: bool = False
    email: str = ""
    phone: str = ""
    phone_e164: str = ""
    strict_phone: bool = True
    source: str = Guest.Source.STAFF
    vip_level: int = Guest.VipLevel.NONE
    loyalty_tier: str = ""
    loyalty_number: str = ""
    notes: str = ""
    preferences: str = ""
    allergens: str = ""
    warning_note: str = ""
    outstanding_balance: Decimal = Decimal("0.00")
    created_on: dt.date | None = None
    created_at: dt.datetime | None = None
    verify_email: bool = False
    consents: list[Consent] = field(default_factory=list)
    greylist: list[Greylisting] = field(default_factory=list)
    stays: list[Stay] = field(default_factory=list)

    @property
    def past_stays(self) -> int:
        return sum(1 for s in self.stays if s.outcome == Reservation.Status.CHECKED_OUT)

    def age_on(self, day: dt.date) -> int:
        born = self.birth_date or day
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def profile(self) -> dict[str, Any]:
        """The profile fields ``guest_create`` takes (the loyalty tier goes in as a code)."""
        return {
            "last_name": self.last_name,
            "language": self.language,
            "nationality": self.nationality,
            "birth_date": self.birth_date,
            "gender": self.gender,
            "vip_level": self.vip_level,
            "loyalty_number": self.loyalty_number,
            "notes": self.notes,
            "preferences": self.preferences,
            "allergens": self.allergens,
            "warning_note": self.warning_note,
            "outstanding_balance": self.outstanding_balance,
            "source": self.source,
        }


@dataclass(eq=False)
class Stay:
    booker: Person
    companions: list[Person]
    arrival: dt.date
    departure: dt.date
    booked_on: dt.date
    outcome: str
    room_type: str
    board_type: str
    nightly_rate: Decimal
    route: str
    agency: str = ""
    market_segment: str = ""
    stay_type: str = "LEI"
    source_channel: str = ""
    external_ref: str = ""
    adults: int = 1
    children: int = 0
    room_number: str = ""
    notes: str = ""
    cancel_on: dt.date | None = None
    cancel_reason: str = ""
    send_notifications: bool | None = None
    # When each step happened; the services stamp "now", the builder moves the stamps back.
    created_at: dt.datetime | None = None
    checked_in_at: dt.datetime | None = None
    checked_out_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None

    @property
    def guests(self) -> list[Person]:
        return [self.booker, *self.companions]


@dataclass(eq=False)
class Visit:
    """A facility booking; a status other than booked is set after it is made."""

    guest: Person
    stay: Stay | None
    facility: str
    starts_at: dt.datetime
    minutes: int
    party_size: int = 1
    notes: str = ""
    status: str = FacilityBooking.Status.BOOKED
    created_at: dt.datetime | None = None


@dataclass
class Plan:
    today: dt.date
    people: list[Person]
    stays: list[Stay]
    visits: list[Visit]
    # (duplicate, known): the duplicate profile later confirms the known profile's e-mail.
    merges: list[tuple[Person, Person]]
