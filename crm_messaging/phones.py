"""Phone numbers: one place for reading, validating and describing them (S7).

Everything that stores or dials a number goes through here, so the guest form, imports and
the sender layer agree on what a valid number is. Numbers written without a country code
are read in the hotel's region (``HOTEL_DEFAULT_REGION``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers import NumberParseException, PhoneNumberType
from phonenumbers import timezone as phone_timezone

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "it has no valid country code (start it with + and the country code)",
    NumberParseException.NOT_A_NUMBER: "it is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}

_KINDS = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline or mobile",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.VOIP: "VoIP",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "UAN",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
# Kinds that can take an SMS, WhatsApp or Viber message.
MESSAGING_KINDS = frozenset({"mobile", "landline or mobile", "VoIP", "personal"})


class InvalidPhone(ValidationError):
    """A phone number that cannot be used; ``message`` says why, for staff to read."""

    def __init__(self, raw: str, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"“{raw}” is not a valid phone number: {reason}.", code="invalid_phone")


@dataclass(frozen=True)
class PhoneInfo:
    """What we know about a valid number."""

    e164: str
    region: str | None
    kind: str
    timezones: tuple[str, ...]

    @property
    def can_message(self) -> bool:
        return self.kind in MESSAGING_KINDS


def _parse(raw: str, region: str | None) -> phonenumbers.PhoneNumber:
    number = _read(raw, region)
    if not phonenumbers.is_valid_number(number):
        raise _not_in_use(raw, number)
    return number


def _not_in_use(raw: str, number: phonenumbers.PhoneNumber) -> InvalidPhone:
    where = phonenumbers.region_code_for_number(number) or f"+{number.country_code}"
    return InvalidPhone(raw, f"it is not a number in use in {where}")


def _read(raw: str, region: str | None) -> phonenumbers.PhoneNumber:
    """Parse a number that could exist (right length, known country code); validity is the caller's check."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(raw, "it is empty")
    # "00" is the international prefix in most of the world, the hotel's included.
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or settings.HOTEL_DEFAULT_REGION)
    except NumberParseException as exc:
        raise InvalidPhone(raw, _PARSE_REASONS.get(exc.error_type, "it cannot be read")) from exc
    if not phonenumbers.is_possible_number(number):
        reason = {
            phonenumbers.ValidationResult.TOO_SHORT: "it is too short",
            phonenumbers.ValidationResult.TOO_LONG: "it is too long",
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "its country code does not exist",
        }.get(phonenumbers.is_possible_number_with_reason(number), "it has the wrong length")
        raise InvalidPhone(raw, reason)
    return number


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return ``raw`` in E.164 form; raise ``InvalidPhone`` with the reason if it is not valid."""
    return phonenumbers.format_number(_parse(raw, region), phonenumbers.PhoneNumberFormat.E164)


def phone_info(raw: str, region: str | None = None) -> PhoneInfo:
    """Describe a number (E.164, region, kind, time zones); raise ``InvalidPhone`` if invalid."""
    return _phone_info(raw, region or settings.HOTEL_DEFAULT_REGION)


@lru_cache(maxsize=65536)
def _phone_info(raw: str, region: str) -> PhoneInfo:
    # Cached: a campaign reads the same numbers for addressing, quiet hours and pricing.
    number = _read(raw, region)
    # A valid number is one whose type is known: one matching pass decides both.
    number_type = phonenumbers.number_type(number)
    if number_type == phonenumbers.PhoneNumberType.UNKNOWN:
        raise _not_in_use(raw, number)
    kind = _KINDS.get(number_type, "unknown")
    zones = tuple(z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown")
    return PhoneInfo(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(number),
        kind=kind,
        timezones=zones,
    )


def is_valid_phone(raw: str) -> bool:
    """Tell whether ``raw`` is a valid number (in any form ``normalise_phone`` accepts)."""
    try:
        _parse(raw, None)
    except InvalidPhone:
        return False
    return True


def format_phone_international(e164: str) -> str:
    """Format a stored number for people to read (``+90 532 123 45 67``); leave bad input as is."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except NumberParseException:
        return e164
