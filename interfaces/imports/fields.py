"""What a column can be (I3): the fields an import fills, how each cell is read, and which
headings each is recognised by when a file has no preset yet.

A cell that cannot be read raises ``CellError`` with a reason for the row report. An empty
cell means "not given": the field is left as it is, and a consent column that is empty
records nothing (consent is never assumed).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django_countries import countries

from crm_messaging.i18n import Phrase, guest_language
from guests.models import NOTE_MAX_LENGTH, ConsentPurpose, ContactChannel, Guest, Reservation
from guests.models.external import source_validator


class CellError(ValueError):
    """A cell that cannot be read; ``phrase`` says why, in no language (the report is read later,
    by staff of either language)."""

    def __init__(self, phrase: Phrase) -> None:
        self.phrase = phrase
        super().__init__(phrase.english())


GUESTS, RESERVATIONS = "guests", "reservations"
KINDS = ((GUESTS, gettext_lazy("Guests")), (RESERVATIONS, gettext_lazy("Reservations")))

_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%y")
_TRUE = {"1", "yes", "y", "true", "t", "x", "evet", "e", "ja", "да", "granted", "opt-in", "optin"}
_FALSE = {
    "0",
    "no",
    "n",
    "false",
    "f",
    "hayır",
    "hayir",
    "h",
    "nein",
    "нет",
    "withdrawn",
    "opt-out",
    "optout",
}
_GENDERS = {
    "m": Guest.Gender.MALE, "male": Guest.Gender.MALE, "e": Guest.Gender.MALE,
    "erkek": Guest.Gender.MALE, "bay": Guest.Gender.MALE, "mr": Guest.Gender.MALE,
    "f": Guest.Gender.FEMALE, "female": Guest.Gender.FEMALE, "k": Guest.Gender.FEMALE,
    "kadın": Guest.Gender.FEMALE, "kadin": Guest.Gender.FEMALE, "bayan": Guest.Gender.FEMALE,
    "mrs": Guest.Gender.FEMALE, "ms": Guest.Gender.FEMALE,
    "other": Guest.Gender.OTHER, "diğer": Guest.Gender.OTHER,
}  # fmt: skip


def parse_text(limit: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) > limit:
            raise CellError(Phrase(gettext_noop("longer than %(n)s characters"), {"n": limit}))
        return raw

    return parse


def parse_date(raw: str) -> dt.date:
    """ISO dates, and the day-first forms Turkish and European exports write."""
    text = raw.strip()[:10] if re.match(r"^\d{4}-\d\d-\d\dT", raw.strip()) else raw.strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise CellError(
        Phrase(
            gettext_noop("“%(value)s” is not a date (use 2026-07-01 or 01.07.2026)"), {"value": raw}
        )
    )


def parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellError(Phrase(gettext_noop("“%(value)s” is neither yes nor no"), {"value": raw}))


def parse_int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            number = int(Decimal(raw.replace(",", ".")))
        except (InvalidOperation, ValueError) as exc:
            raise CellError(
                Phrase(gettext_noop("“%(value)s” is not a whole number"), {"value": raw})
            ) from exc
        if not low <= number <= high:
            raise CellError(
                Phrase(
                    gettext_noop("%(value)s is not between %(low)s and %(high)s"),
                    {"value": number, "low": low, "high": high},
                )
            )
        return number

    return parse


def parse_money(raw: str) -> Decimal:
    text = raw.replace(" ", "")
    # 1.234,50 (Turkish/German) and 1,234.50 (English) both mean 1234.50.
    if "," in text and "." in text:
        text = (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else text.replace(",", "")
        )
    elif "," in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise CellError(
            Phrase(gettext_noop("“%(value)s” is not an amount"), {"value": raw})
        ) from exc
    if amount < 0:
        raise CellError(Phrase(gettext_noop("an amount cannot be negative")))
    return amount


def parse_language(raw: str) -> str:
    code = guest_language(raw)
    if code is None:
        raise CellError(
            Phrase(
                gettext_noop("“%(value)s” is not a guest language (%(known)s)"),
                {"value": raw, "known": ", ".join(dict(settings.GUEST_LANGUAGES))},
            )
        )
    return code


def parse_country(raw: str) -> str:
    text = raw.strip()
    if len(text) == 2 and text.upper() in dict(countries):
        return text.upper()
    code = countries.by_name(text) or countries.alpha2(text)
    if code:
        return code
    raise CellError(Phrase(gettext_noop("“%(value)s” is not a country"), {"value": raw}))


def parse_gender(raw: str) -> str:
    word = raw.strip().lower().rstrip(".")
    if word in _GENDERS:
        return _GENDERS[word]
    raise CellError(
        Phrase(gettext_noop("“%(value)s” is not a gender (male, female, other)"), {"value": raw})
    )


def parse_choice(choices: Any) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        word = raw.strip().lower().replace(" ", "_").replace("-", "_")
        for value, label in choices:
            if word in (value, str(label).lower().replace(" ", "_").replace("-", "_")):
                return str(value)
        raise CellError(
            Phrase(
                gettext_noop("“%(value)s” is not one of %(known)s"),
                {"value": raw, "known": ", ".join(str(v) for v, _label in choices)},
            )
        )

    return parse


def parse_email(raw: str) -> str:
    return raw.strip()


@dataclass(frozen=True)
class ImportField:
    """One thing a column can fill."""

    key: str
    label: Phrase  # read in the reader's language, in the form and in a row's error
    parse: Callable[[str], Any]
    synonyms: tuple[str, ...] = ()
    kinds: tuple[str, ...] = (GUESTS, RESERVATIONS)
    required: bool = False
    group: str = "guest"  # guest | consent | reservation


# Consent columns: field key → (purpose, channel).
CONSENT_FIELDS: dict[str, tuple[str, str]] = {}


def _consent(purpose: str, channel: str, label: Phrase, *synonyms: str) -> ImportField:
    key = f"consent_{purpose}" + (f"_{channel}" if channel else "")
    CONSENT_FIELDS[key] = (purpose, channel)
    return ImportField(key, label, parse_bool, synonyms, group="consent")


FIELDS: tuple[ImportField, ...] = (
    ImportField("guest_id", Phrase(gettext_noop("Guest id in your system")), parse_text(64),
                ("guest id", "guest_id", "customer id", "profile id", "misafir no", "misafir id", "client id")),
    ImportField("first_name", Phrase(gettext_noop("First name")), parse_text(80),
                ("first name", "firstname", "given name", "name", "ad", "adı", "isim", "vorname", "имя"),
                required=True),
    ImportField("last_name", Phrase(gettext_noop("Last name")), parse_text(80),
                ("last name", "lastname", "surname", "family name", "soyad", "soyadı", "nachname", "фамилия")),
    ImportField("email", Phrase(gettext_noop("E-mail")), parse_email,
                ("email", "e-mail", "e mail", "mail", "eposta", "e-posta", "email address")),
    ImportField("phone", Phrase(gettext_noop("Phone")), parse_text(40),
                ("phone", "mobile", "mobile phone", "cell", "gsm", "telefon", "cep", "cep telefonu", "tel", "телефон")),
    ImportField("language", Phrase(gettext_noop("Language")), parse_language,
                ("language", "lang", "dil", "sprache", "язык", "language code")),
    ImportField("nationality", Phrase(gettext_noop("Nationality")), parse_country,
                ("nationality", "country", "uyruk", "ülke", "nationalität", "nationality code")),
    ImportField("birth_date", Phrase(gettext_noop("Birth date")), parse_date,
                ("birth date", "birthdate", "date of birth", "dob", "birthday", "doğum tarihi", "geburtsdatum")),
    ImportField("gender", Phrase(gettext_noop("Gender")), parse_gender, ("gender", "sex", "cinsiyet", "geschlecht")),
    ImportField("vip_level", Phrase(gettext_noop("VIP level (0–3)")), parse_int(0, 3), ("vip", "vip level")),
    ImportField("loyalty_number", Phrase(gettext_noop("Loyalty number")), parse_text(40),
                ("loyalty number", "loyalty code", "loyalty", "member number", "sadakat no")),
    ImportField("notes", Phrase(gettext_noop("Notes")), parse_text(NOTE_MAX_LENGTH), ("notes", "note", "not", "notlar", "comments")),
    _consent(ConsentPurpose.DATA_PROCESSING, "", Phrase(gettext_noop("Consent: data processing (KVKK/GDPR)")),
             "kvkk", "gdpr", "data processing consent", "kvkk onayı"),
    _consent(ConsentPurpose.MARKETING, ContactChannel.EMAIL, Phrase(gettext_noop("Consent: marketing e-mail")),
             "marketing email", "email opt in", "newsletter", "e-posta izni", "email consent"),
    _consent(ConsentPurpose.MARKETING, ContactChannel.SMS, Phrase(gettext_noop("Consent: marketing SMS")),
             "marketing sms", "sms opt in", "sms izni", "sms consent"),
    _consent(ConsentPurpose.MARKETING, ContactChannel.WHATSAPP, Phrase(gettext_noop("Consent: marketing WhatsApp")),
             "marketing whatsapp", "whatsapp opt in", "whatsapp izni", "whatsapp consent"),
    _consent(ConsentPurpose.MARKETING, ContactChannel.VIBER, Phrase(gettext_noop("Consent: marketing Viber")),
             "marketing viber", "viber opt in", "viber izni", "viber consent"),
    ImportField("reservation_id", Phrase(gettext_noop("Reservation id in your system")), parse_text(64),
                ("reservation id", "reservation_id", "booking id", "reservation number", "res no",
                 "rezervasyon no", "confirmation number", "voucher"),
                kinds=(RESERVATIONS,), required=True, group="reservation"),
    ImportField("arrival", Phrase(gettext_noop("Arrival")), parse_date,
                ("arrival", "arrival date", "check in", "checkin", "giriş", "giriş tarihi", "anreise"),
                kinds=(RESERVATIONS,), required=True, group="reservation"),
    ImportField("departure", Phrase(gettext_noop("Departure")), parse_date,
                ("departure", "departure date", "check out", "checkout", "çıkış", "çıkış tarihi", "abreise"),
                kinds=(RESERVATIONS,), required=True, group="reservation"),
    ImportField("status", Phrase(gettext_noop("Status")), parse_choice(Reservation.Status.choices),
                ("status", "state", "durum", "reservation status"), kinds=(RESERVATIONS,), group="reservation"),
    ImportField("room_type", Phrase(gettext_noop("Room type (code or name)")), parse_text(100),
                ("room type", "roomtype", "category", "oda tipi"), kinds=(RESERVATIONS,), group="reservation"),
    ImportField("board_type", Phrase(gettext_noop("Board (code or name)")), parse_text(100),
                ("board", "board type", "meal plan", "pansiyon", "pansiyon tipi"), kinds=(RESERVATIONS,),
                group="reservation"),
    ImportField("room_number", Phrase(gettext_noop("Room number")), parse_text(10),
                ("room", "room number", "room no", "oda", "oda no"), kinds=(RESERVATIONS,), group="reservation"),
    ImportField("adults", Phrase(gettext_noop("Adults")), parse_int(1, 50), ("adults", "adult", "yetişkin", "pax"),
                kinds=(RESERVATIONS,), group="reservation"),
    ImportField("children", Phrase(gettext_noop("Children")), parse_int(0, 50), ("children", "child", "çocuk", "kids"),
                kinds=(RESERVATIONS,), group="reservation"),
    ImportField("nightly_rate", Phrase(gettext_noop("Nightly rate")), parse_money,
                ("rate", "nightly rate", "price per night", "gecelik fiyat"), kinds=(RESERVATIONS,),
                group="reservation"),
    ImportField("total_amount", Phrase(gettext_noop("Total amount")), parse_money,
                ("total", "total amount", "amount", "toplam", "tutar"), kinds=(RESERVATIONS,), group="reservation"),
    ImportField("currency", Phrase(gettext_noop("Currency")), parse_text(3), ("currency", "döviz", "para birimi"),
                kinds=(RESERVATIONS,), group="reservation"),
    ImportField("external_ref", Phrase(gettext_noop("Channel booking reference")), parse_text(64),
                ("channel reference", "ota reference", "channel number", "booking reference", "acente voucher"),
                kinds=(RESERVATIONS,), group="reservation"),
)  # fmt: skip

FIELDS_BY_KEY = {f.key: f for f in FIELDS}


def source_key(text: str) -> str:
    """The source a file comes from as the upserts key ids by it ("Elektraweb" → "elektraweb");
    raise ValidationError (naming the rule) for one that cannot be a source."""
    key = re.sub(r"\s+", "-", text.strip().lower())
    source_validator(key)
    return key


def fields_for(kind: str) -> list[ImportField]:
    """The fields a ``kind`` of import can fill, in form order."""
    return [f for f in FIELDS if kind in f.kinds]


def _heading_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-zа-я]+", " ", folded).strip()


def suggest_mapping(headers: list[str], kind: str) -> dict[str, str]:
    """Guess {field: column} from the headings (exact key or a known synonym), each column once."""
    by_heading = {_heading_key(h): h for h in headers}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for item in fields_for(kind):
        for name in (item.key, *item.synonyms):
            column = by_heading.get(_heading_key(name))
            if column and column not in used:
                mapping[item.key] = column
                used.add(column)
                break
    return mapping


def mapping_errors(mapping: dict[str, str], headers: list[str], kind: str) -> list[str]:
    """Say what is wrong with a mapping for this file: unknown fields or columns, a column
    used twice, a required field missing."""
    errors: list[str] = []
    allowed = {f.key for f in fields_for(kind)}
    for key, column in mapping.items():
        if key not in allowed:
            errors.append(_("“%(field)s” is not a field of this import.") % {"field": key})
        elif column not in headers:
            errors.append(
                _("The file has no column “%(column)s” (for %(field)s).")
                % {"column": column, "field": FIELDS_BY_KEY[key].label}
            )
    columns = [c for c in mapping.values() if c]
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        errors.append(_("The column “%(column)s” is used for two fields.") % {"column": column})
    for f in fields_for(kind):
        if f.required and not mapping.get(f.key):
            errors.append(_("Choose the column for “%(field)s”.") % {"field": f.label})
    return errors
