"""Environment variables read for the settings, each checked when it is read.

A value that cannot mean anything stops start-up with ``ImproperlyConfigured`` naming the
variable and what it accepts (``manage.py check``, gunicorn, Celery all refuse to start), not
the first request that needs it. An unset or empty variable is its default. These readers run
while the settings load: they use no setting and nothing that needs one.
"""

from __future__ import annotations

import ipaddress
import os
import re
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from email.utils import parseaddr
from urllib.parse import urlsplit

import phonenumbers
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import DomainNameValidator, validate_email

from crm_messaging.networks import parse_networks

# Codes people write that ISO 3166 spells otherwise.
_COUNTRY_HINTS = {"UK": "GB", "EL": "GR", "EN": "GB"}
# API_THROTTLE_RATE's periods, as Django REST framework reads them (by the first letter).
RATE_PERIODS = ("sec", "min", "hour", "day")
_RATE = re.compile(r"(\d+)/(s|sec|second|m|min|minute|h|hour|d|day)")


def _raw(name: str) -> str | None:
    raw = os.environ.get(name)
    return None if raw is None or raw.strip() == "" else raw.strip()


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no variable; refuse anything that is not clearly one."""
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a yes/no value (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    """Read a whole number from ``minimum`` to ``maximum`` (none: no upper bound)."""
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        span = f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"
        raise ImproperlyConfigured(f"{name} must be a whole number {span}, not {raw!r}")
    return value


def env_decimal(
    name: str, default: str, *, minimum: Decimal, maximum: Decimal, places: int
) -> Decimal:
    """Read a decimal number from ``minimum`` to ``maximum`` with at most ``places`` decimals."""
    raw = _raw(name) or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if (
        value is None
        or not value.is_finite()
        or not minimum <= value <= maximum
        or value != round(value, places)
    ):
        raise ImproperlyConfigured(
            f"{name} must be a number from {minimum} to {maximum} with at most {places} "
            f"decimals (e.g. 20 or 18.5), not {raw!r}"
        )
    return value


def env_choice(name: str, default: str, choices: Iterable[str], *, upper: bool = False) -> str:
    """Read one of ``choices`` (compared in lower case, or upper with ``upper``)."""
    options = list(choices)
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.upper() if upper else raw.lower()
    if value not in options:
        quoted = [f"'{option}'" for option in options]
        allowed = " or ".join(quoted) if len(quoted) == 2 else "one of " + ", ".join(quoted)
        raise ImproperlyConfigured(f"{name} must be {allowed}, not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated variable."""
    raw = _raw(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list[str]:
    """Read comma-separated addresses or networks (CIDR); the entries as written."""
    entries = env_list(name, default)
    parse_networks(name, tuple(entries))
    return entries


def env_address(name: str, default: str) -> str:
    """Read an IP address (``0.0.0.0`` or ``::`` for every interface)."""
    raw = _raw(name)
    if raw is None:
        return default
    try:
        ipaddress.ip_address(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be an IP address (e.g. 127.0.0.1 or 0.0.0.0), not {raw!r}"
        ) from exc
    return raw


def region_codes(name: str, raw: str, *, one: bool = False) -> list[str]:
    """The ISO 3166 country codes in the comma-separated ``raw``, upper-cased.

    Raises ImproperlyConfigured, naming ``name``, for a code phone numbers do not know (or,
    with ``one``, for more than one code).
    """
    codes = [item.strip().upper() for item in raw.split(",") if item.strip()]
    unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
    if unknown or (one and len(codes) != 1):
        hints = [f"{code} is {_COUNTRY_HINTS[code]}" for code in unknown if code in _COUNTRY_HINTS]
        hint = f" ({'; '.join(hints)})" if hints else ""
        form = (
            "one ISO 3166 country code (e.g. TR)"
            if one
            else "ISO 3166 country codes, comma-separated (e.g. TR,DE,GB)"
        )
        raise ImproperlyConfigured(f"{name} must be {form}, not {raw!r}{hint}")
    return codes


def env_countries(name: str, default: list[str]) -> list[str]:
    """Read comma-separated ISO 3166 country codes, upper-cased."""
    raw = _raw(name)
    return default if raw is None else region_codes(name, raw)


def env_country(name: str, default: str) -> str:
    """Read one ISO 3166 country code, upper-cased."""
    raw = _raw(name)
    return default if raw is None else region_codes(name, raw, one=True)[0]


def env_email(name: str, default: str, *, display_name: bool = False) -> str:
    """Read an e-mail address (``Name <address>`` too with ``display_name``)."""
    raw = _raw(name)
    if raw is None:
        return default
    address = parseaddr(raw)[1] if display_name else raw
    try:
        validate_email(address)
    except ValidationError as exc:
        form = "an e-mail address (or Name <address>)" if display_name else "an e-mail address"
        raise ImproperlyConfigured(f"{name} must be {form}, not {raw!r}") from exc
    return raw


def env_domains(name: str, default: list[str]) -> list[str]:
    """Read comma-separated domain names, lower-cased."""
    domains = [domain.lower() for domain in env_list(name, default)]
    validate = DomainNameValidator(accept_idna=True)
    for domain in domains:
        try:
            validate(domain)
        except ValidationError as exc:
            raise ImproperlyConfigured(
                f"{name} must be domain names, comma-separated (e.g. guest.booking.com), "
                f"not {domain!r}"
            ) from exc
    return domains


def env_url(
    name: str, default: str, *, schemes: Iterable[str], host: bool = True, secret: bool = False
) -> str:
    """Read an address (URL) with one of ``schemes`` (and, with ``host``, a host or path).

    With ``secret`` (an address that may hold a password) the message does not repeat it.
    """
    allowed = tuple(schemes)
    raw = _raw(name)
    if raw is None:
        return default
    parts = urlsplit(raw)
    if (
        parts.scheme not in allowed
        or "://" not in raw
        or (host and not (parts.netloc or parts.path))
    ):
        starts = " or ".join(f"{scheme}://" for scheme in allowed)
        given = (
            "not what it holds (not repeated: it may hold a password)" if secret else f"not {raw!r}"
        )
        raise ImproperlyConfigured(f"{name} must be an address starting with {starts}, {given}")
    return raw


def env_time_zone(name: str, default: str) -> str:
    """Read an IANA time zone name (Europe/Istanbul)."""
    raw = _raw(name)
    if raw is None:
        return default
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"{name} must be a time zone name such as Europe/Istanbul or UTC, not {raw!r}"
        ) from exc
    return raw


def env_rate(name: str, default: str) -> str:
    """Read a request rate: a whole number of 1 or more, ``/`` and a period (``600/min``)."""
    raw = _raw(name)
    if raw is None:
        return default
    match = _RATE.fullmatch(raw.replace(" ", ""))
    if match is None or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"{name} must be a number of requests of 1 or more per "
            f"{', '.join(RATE_PERIODS)} (e.g. 600/min), not {raw!r}"
        )
    return match.group(0)
