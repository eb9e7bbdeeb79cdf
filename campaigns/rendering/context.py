"""The values a template sees: plain strings and numbers, formatted for the message's language;
and which language variant a guest gets (C8, :func:`choose_variant`).

:func:`build_context` reads the models once and hands templates dicts of strings and
integers only, never model instances, so no attribute a template follows can reach the ORM.
The keys are listed in :data:`CONTEXT_KEYS` and in the package's docstring.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from guests.models import (
    BoardType,
    Facility,
    FacilityBooking,
    FacilityType,
    Guest,
    Hotel,
    Reservation,
    RoomType,
)

if TYPE_CHECKING:
    from campaigns.models import MessageVariant

__all__ = [
    "CONTEXT_KEYS",
    "LINK_NAMES",
    "build_context",
    "choose_variant",
    "format_date",
    "format_money",
    "sample_context",
]

CONTEXT_KEYS: dict[str, tuple[str, ...]] = {
    "guest": (
        "first_name",
        "last_name",
        "full_name",
        "title",
        "language",
        "nationality",
        "birth_date",
        "balance",
    ),
    "reservation": (
        "number",
        "arrival",
        "departure",
        "nights",
        "room",
        "room_type",
        "board",
        "adults",
        "children",
    ),
    "facility": ("name", "type", "date", "time", "party_size"),
    "hotel": ("name", "phone", "email", "website", "address"),
}
"""The sections of the context and their keys; ``links`` holds whatever the caller passes."""

LINK_NAMES: tuple[str, ...] = ("unsubscribe", "portal", "survey")
"""The links templates are checked against when saved; a render gets the ones the caller passes."""

# 27.11.2026 for most languages; English gets the month's name, which reads the same to
# British and American guests (11/27 and 27/11 do not).
_DATE_FORMATS = {
    "tr": "%d.%m.%Y",
    "de": "%d.%m.%Y",
    "ru": "%d.%m.%Y",
    "uk": "%d.%m.%Y",
    "pl": "%d.%m.%Y",
    "sk": "%d.%m.%Y",
    "nl": "%d-%m-%Y",
    "fr": "%d/%m/%Y",
    "it": "%d/%m/%Y",
    "es": "%d/%m/%Y",
    "ar": "%d/%m/%Y",
}
_ENGLISH_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

# (thousands separator, decimal mark); a plain space, not a no-break space, keeps SMS in GSM-7.
_NUMBER_MARKS = {
    "en": (",", "."),
    "ar": (",", "."),
    "tr": (".", ","),
    "de": (".", ","),
    "nl": (".", ","),
    "it": (".", ","),
    "es": (".", ","),
    "ru": (" ", ","),
    "uk": (" ", ","),
    "pl": (" ", ","),
    "sk": (" ", ","),
    "fr": (" ", ","),
}

# How a letter addresses a woman / a man, by language.
_TITLES = {
    "tr": ("Bayan", "Bay"),
    "en": ("Ms", "Mr"),
    "de": ("Frau", "Herr"),
    "ru": ("госпожа", "господин"),
    "uk": ("пані", "пан"),
    "sk": ("pani", "pán"),
    "pl": ("Pani", "Pan"),
    "fr": ("Mme", "M."),
    "nl": ("mevrouw", "de heer"),
    "it": ("Sig.ra", "Sig."),
    "es": ("Sra.", "Sr."),
    "ar": ("السيدة", "السيد"),
}

# Board types by code, in the languages the gallery speaks; others fall back to the stored name.
_BOARD_NAMES = {
    "RO": {"tr": "Sadece oda", "de": "Nur Übernachtung", "ru": "Без питания"},
    "BB": {"tr": "Oda ve kahvaltı", "de": "Übernachtung mit Frühstück", "ru": "Завтрак"},
    "HB": {"tr": "Yarım pansiyon", "de": "Halbpension", "ru": "Полупансион"},
    "FB": {"tr": "Tam pansiyon", "de": "Vollpension", "ru": "Полный пансион"},
    "AI": {"tr": "Her şey dahil", "de": "All-inclusive", "ru": "Всё включено"},
}


def format_date(day: dt.date | None, language: str) -> str:
    """Return ``day`` as guests of ``language`` write it; "" for None."""
    if day is None:
        return ""
    if language == "en":
        return f"{day.day} {_ENGLISH_MONTHS[day.month - 1]} {day.year}"
    return day.strftime(_DATE_FORMATS.get(language, "%d.%m.%Y"))


def format_money(amount: Decimal | None, language: str) -> str:
    """Return ``amount`` with two decimals and the language's separators (1.250,50 / 1,250.50)."""
    thousands, decimal = _NUMBER_MARKS.get(language, (",", "."))
    text = f"{amount or Decimal('0'):,.2f}"
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)


def build_context(
    *,
    guest: Guest,
    reservation: Reservation | None = None,
    facility_booking: FacilityBooking | None = None,
    hotel: Hotel,
    links: Mapping[str, str] | None = None,
    language: str,
) -> dict[str, Any]:
    """Return what a template may use for one recipient, formatted for ``language``.

    ``language`` is the language of the message (the chosen variant's), not necessarily the
    guest's. ``reservation`` and ``facility_booking`` may be None; their sections are then
    None too, so ``{% if reservation %}`` works and ``@ARRIVAL`` fails clearly. Reading the
    reservation's room and board type and the booking's facility follows foreign keys:
    select_related them when building contexts for many recipients.
    """
    return {
        "guest": _guest(guest, language),
        "reservation": _reservation(reservation, language) if reservation is not None else None,
        "facility": _facility(facility_booking, language) if facility_booking is not None else None,
        "hotel": {
            "name": hotel.name,
            "phone": hotel.phone,
            "email": hotel.email,
            "website": hotel.website,
            "address": hotel.address,
        },
        "links": {str(name): str(url) for name, url in (links or {}).items()},
    }


def _guest(guest: Guest, language: str) -> dict[str, Any]:
    female, male = _TITLES.get(language, _TITLES["en"])
    title = {Guest.Gender.FEMALE.value: female, Guest.Gender.MALE.value: male}.get(
        str(guest.gender), ""
    )
    return {
        "first_name": guest.first_name,
        "last_name": guest.last_name,
        "full_name": guest.full_name,
        "title": title,
        "language": guest.language,
        "nationality": getattr(guest.nationality, "code", None) or "",
        "birth_date": format_date(guest.birth_date, language),
        "balance": format_money(guest.outstanding_balance, language),
    }


def _reservation(reservation: Reservation, language: str) -> dict[str, Any]:
    board = reservation.board_type
    return {
        "number": reservation.number,
        "arrival": format_date(reservation.arrival, language),
        "departure": format_date(reservation.departure, language),
        "nights": max((reservation.departure - reservation.arrival).days, 0),
        "room": reservation.room_number,
        "room_type": reservation.room_type.name,
        "board": _BOARD_NAMES.get(board.code, {}).get(language, board.name),
        "adults": reservation.adults,
        "children": reservation.children,
    }


def _facility(booking: FacilityBooking, language: str) -> dict[str, Any]:
    starts = timezone.localtime(booking.starts_at)
    return {
        "name": booking.facility.name,
        "type": booking.facility.facility_type.name,
        "date": format_date(starts.date(), language),
        "time": f"{starts:%H:%M}",
        "party_size": booking.party_size,
    }


def sample_context(language: str | None = None) -> dict[str, Any]:
    """Return a full context for a made-up guest, stay, spa booking and every link.

    Built from unsaved model instances through :func:`build_context`, so it has exactly the
    keys a real recipient's has; templates are test-rendered against it when saved.
    """
    language = language or settings.HOTEL_DEFAULT_LANGUAGE
    guest = Guest(
        first_name="Ayşe",
        last_name="Yılmaz",
        language=language,
        nationality="TR",
        gender=Guest.Gender.FEMALE,
        birth_date=dt.date(1986, 5, 17),
        outstanding_balance=Decimal("1250.50"),
    )
    reservation = Reservation(
        pk=1234,
        booker=guest,
        arrival=dt.date(2026, 11, 27),
        departure=dt.date(2026, 12, 4),
        room_type=RoomType(code="SV", name="Sea-view double"),
        board_type=BoardType(code="HB", name="Half board"),
        room_number="214",
        adults=2,
        children=1,
    )
    booking = FacilityBooking(
        guest=guest,
        reservation=reservation,
        party_size=2,
        facility=Facility(
            name="Hamam",
            facility_type=FacilityType(code="SPA", name="Spa", kind=FacilityType.Kind.SPA),
        ),
        starts_at=dt.datetime(2026, 11, 29, 16, 30, tzinfo=timezone.get_current_timezone()),
    )
    hotel = Hotel(
        name="Demo Hotel",
        phone="+90 252 316 10 10",
        email="info@example.com",
        website="https://www.example.com",
        address="Kumbahçe Mah. 1, 48400 Bodrum",
    )
    links = {name: f"https://www.example.com/{name}/sample" for name in LINK_NAMES}
    return build_context(
        guest=guest,
        reservation=reservation,
        facility_booking=booking,
        hotel=hotel,
        links=links,
        language=language,
    )


def choose_variant(variants: Iterable[MessageVariant], language: str) -> MessageVariant | None:
    """Return the variant in ``language``, else in HOTEL_DEFAULT_LANGUAGE, else the first; None without any.

    "First" is by language code, then pk (the order MessageVariant lists in), so the choice
    does not depend on the order ``variants`` comes in. A regional code such as "de-AT"
    matches a "de" variant.
    """
    ordered = sorted(variants, key=lambda variant: (variant.language, variant.pk or 0))
    by_language: dict[str, MessageVariant] = {}
    for variant in ordered:
        by_language.setdefault(variant.language, variant)
    wanted = (language or "").lower().replace("_", "-")
    for code in (wanted, wanted.split("-")[0], settings.HOTEL_DEFAULT_LANGUAGE):
        if code in by_language:
            return by_language[code]
    return ordered[0] if ordered else None
