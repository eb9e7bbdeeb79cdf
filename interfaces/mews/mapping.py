"""Mews records → our guests and stays (I4).

States (reservations.md, *Service order state*): ``Confirmed`` is a booking, ``Started`` is
checked in, ``Processed`` checked out, ``Canceled`` cancelled — a no-show when its
cancellation reason says ``NoShow``. ``Inquired``, ``Requested`` and ``Optional`` are not
bookings both sides agreed on: they are not brought in (no confirmation goes out for an
enquiry) until they become ``Confirmed``.

Consent is not taken from Mews: its customer options (``SendMarketingEmails``) are the
hotel's own flags, not the guest's recorded statement with a source and a wording, and
applying them on every customer update would undo an opt-out the guest made here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django_countries import countries

from crm_messaging.i18n import guest_language
from guests.models import Guest, Reservation

from .client import parse_utc

Status = Reservation.Status

STATUS_BY_STATE = {
    "Confirmed": Status.CONFIRMED,
    "Started": Status.CHECKED_IN,
    "Processed": Status.CHECKED_OUT,
    "Canceled": Status.CANCELLED,
}
NOT_BOOKED = frozenset({"Inquired", "Enquired", "Requested", "Optional"})
_GENDERS = {"Male": Guest.Gender.MALE, "Female": Guest.Gender.FEMALE}


def reservation_status(record: dict[str, Any]) -> str | None:
    """Our status for a Mews reservation; None for one that is no booking yet (or unknown)."""
    state = record.get("State")
    if state == "Canceled" and record.get("CancellationReason") == "NoShow":
        return Status.NO_SHOW
    return STATUS_BY_STATE.get(str(state))


def _hotel_date(text: str | None) -> dt.date | None:
    moment = parse_utc(text)
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date() if moment else None


def customer_data(customer: dict[str, Any]) -> dict[str, Any]:
    """The guest fields a Mews customer fills; what Mews leaves empty is left out (kept here)."""
    first, last = (
        (customer.get("FirstName") or "").strip(),
        (customer.get("LastName") or "").strip(),
    )
    data: dict[str, Any] = {
        # Mews requires only a last name; our profile needs a first one to address the guest.
        "first_name": first or last,
        "last_name": last if first else "",
    }
    for ours, theirs in (("email", "Email"), ("phone", "Phone"), ("loyalty_number", "LoyaltyCode")):
        if customer.get(theirs):
            data[ours] = str(customer[theirs]).strip()
    language = guest_language(
        customer.get("PreferredLanguageCode") or customer.get("LanguageCode") or ""
    )
    if language:
        data["language"] = language
    nationality = (customer.get("NationalityCode") or "").upper()
    if nationality in dict(countries):
        data["nationality"] = nationality
    if customer.get("BirthDate"):
        with contextlib.suppress(ValueError):
            data["birth_date"] = dt.date.fromisoformat(str(customer["BirthDate"])[:10])
    if customer.get("Sex") in _GENDERS:
        data["gender"] = _GENDERS[customer["Sex"]]
    return data


def reservation_data(record: dict[str, Any]) -> dict[str, Any]:
    """The stay fields a Mews reservation fills: dates in the hotel's time zone, people, references."""
    arrival = _hotel_date(record.get("ScheduledStartUtc") or record.get("StartUtc"))
    departure = _hotel_date(record.get("ScheduledEndUtc") or record.get("EndUtc"))
    people = sum(int(p.get("Count") or 0) for p in record.get("PersonCounts") or [])
    data: dict[str, Any] = {
        "arrival": arrival,
        "departure": departure,
        # Age categories are the property's own list; without it every person counts as adult.
        "adults": max(people, 1),
        "external_ref": str(record.get("ChannelNumber") or record.get("Number") or "")[:64],
    }
    return data


def localized(texts: Any, language: str) -> str:
    """A Mews localized text (``{"en-US": "Double room", "tr-TR": "Çift kişilik oda"}``) in
    ``language`` (its first part), else English, else any."""
    if not isinstance(texts, dict):
        return ""
    values = {str(k).lower(): str(v).strip() for k, v in texts.items() if v and str(v).strip()}
    for wanted in (language.lower(), "en"):
        for key, value in values.items():
            if key.split("-")[0] == wanted:
                return value
    return next(iter(values.values()), "")


def category_labels(category: dict[str, Any]) -> list[str]:
    """Every name and short name of a Mews resource category, in every language."""
    labels: list[str] = []
    for field_name in ("ShortNames", "Names"):
        texts = category.get(field_name)
        for value in texts.values() if isinstance(texts, dict) else []:
            if value and str(value).strip() and str(value).strip() not in labels:
                labels.append(str(value).strip())
    return labels


def room_number(resource: dict[str, Any] | None) -> str:
    """A Mews resource's ``Name`` (the room's number, "101"), as our room number (10 long)."""
    return str((resource or {}).get("Name") or "").strip()[:10]
