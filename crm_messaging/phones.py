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
from django.utils.translation import gettext_lazy, gettext_noop
from phonenumbers import NumberParseException, PhoneNumberType
from phonenumbers import timezone as phone_timezone

from .i18n import Phrase

# Why a number is refused: English message ids (crm_messaging.i18n.Phrase), read by staff in
# their own language.
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: gettext_noop(
        "it has no valid country code (start it with + and the country code)"
    ),
    NumberParseException.NOT_A_NUMBER: gettext_noop("it is not a phone number"),
    NumberParseException.TOO_SHORT_AFTER_IDD: gettext_noop("it is too short"),
    NumberParseException.TOO_SHORT_NSN: gettext_noop("it is too short"),
    NumberParseException.TOO_LONG: gettext_noop("it is too long"),
}

# A number's kind: also an English message id, so a staff member reads "landline" in his language.
_KINDS = {
    PhoneNumberType.MOBILE: gettext_noop("mobile"),
    PhoneNumberType.FIXED_LINE: gettext_noop("landline"),
    PhoneNumberType.FIXED_LINE_OR_MOBILE: gettext_noop("landline or mobile"),
    PhoneNumberType.TOLL_FREE: gettext_noop("toll-free"),
    PhoneNumberType.PREMIUM_RATE: gettext_noop("premium-rate"),
    PhoneNumberType.VOIP: gettext_noop("VoIP"),
    PhoneNumberType.PERSONAL_NUMBER: gettext_noop("personal"),
    PhoneNumberType.PAGER: gettext_noop("pager"),
    PhoneNumberType.UAN: gettext_noop("UAN"),
    PhoneNumberType.SHARED_COST: gettext_noop("shared-cost"),
    PhoneNumberType.VOICEMAIL: gettext_noop("voicemail"),
}
# Kinds that can take an SMS, WhatsApp or Viber message.
MESSAGING_KINDS = frozenset({"mobile", "landline or mobile", "VoIP", "personal"})


# The whole refusal: a form shows it in the language active when it renders (lazy, with the
# reason as a parameter), a stored report keeps it as a Phrase.
_REFUSAL = gettext_noop("“%(number)s” is not a valid phone number: %(why)s.")


class InvalidPhone(ValidationError):
    """A phone number that cannot be used; ``message`` (lazy, with ``params``) says why in the
    language active when it is read, ``reason`` in English (the API's words), ``why`` in no
    language (a Phrase, for words that are stored and read later)."""

    def __init__(self, raw: str, why: Phrase) -> None:
        self.raw = raw
        self.why = why
        self.reason = why.english()
        super().__init__(
            gettext_lazy(_REFUSAL), code="invalid_phone", params={"number": raw, "why": why}
        )

    @property
    def phrase(self) -> Phrase:
        """The whole refusal, in no language."""
        return Phrase(_REFUSAL, {"number": self.raw, "why": self.why})


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
    return InvalidPhone(
        raw, Phrase(gettext_noop("it is not a number in use in %(where)s"), {"where": where})
    )


def _read(raw: str, region: str | None) -> phonenumbers.PhoneNumber:
    """Parse a number that could exist (right length, known country code); validity is the caller's check."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(raw, Phrase(gettext_noop("it is empty")))
    # "00" is the international prefix in most of the world, the hotel's included.
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or settings.HOTEL_DEFAULT_REGION)
    except NumberParseException as exc:
        why = _PARSE_REASONS.get(exc.error_type, gettext_noop("it cannot be read"))
        raise InvalidPhone(raw, Phrase(why)) from exc
    if not phonenumbers.is_possible_number(number):
        why = {
            phonenumbers.ValidationResult.TOO_SHORT: gettext_noop("it is too short"),
            phonenumbers.ValidationResult.TOO_LONG: gettext_noop("it is too long"),
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: gettext_noop(
                "its country code does not exist"
            ),
        }.get(
            phonenumbers.is_possible_number_with_reason(number),
            gettext_noop("it has the wrong length"),
        )
        raise InvalidPhone(raw, Phrase(why))
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
