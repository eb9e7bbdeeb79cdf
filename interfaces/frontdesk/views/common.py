"""What the front-desk screens share: "show more" sizes, guest search, reservation numbers."""

from __future__ import annotations

import contextlib
import re

from django.db.models import Q
from django.http import HttpRequest

from crm_messaging.numbers import whole_number
from crm_messaging.phones import InvalidPhone, normalise_phone

PAGE_SIZE = 25
R_NUMBER = re.compile(r"[Rr]?0*(\d{1,12})")


def limit_param(request: HttpRequest, name: str, default: int, maximum: int = 500) -> int:
    """A "show more" size from the query string, kept between ``default`` and ``maximum``."""
    size = whole_number(request.GET.get(name))
    return min(max(size, default), maximum) if size is not None else default


def guest_search(text: str, prefix: str = "") -> Q:
    """Guests matching what staff typed: every word in the first or last name, the e-mail, or
    the phone (as typed, in digits, or read as a local number)."""
    text = text.strip()
    if not text:
        return Q()
    field = (lambda name: f"{prefix}{name}") if prefix else (lambda name: name)
    name = Q()
    for word in text.split():
        name &= Q(**{f"{field('first_name')}__icontains": word}) | Q(
            **{f"{field('last_name')}__icontains": word}
        )
    match = name | Q(**{f"{field('email')}__icontains": text})
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 4 and not re.search(r"[^\d\s+()./-]", text):
        match |= Q(**{f"{field('phone')}__contains": digits})
        with contextlib.suppress(InvalidPhone):  # not a number read in the hotel's region
            match |= Q(**{field("phone"): normalise_phone(text)})
    return match


def reservation_number(text: str) -> int | None:
    """The id in a reservation number as staff type it ("R0000042", "r42", "42"), else None."""
    found = R_NUMBER.fullmatch(text.strip())
    return int(found.group(1)) if found else None
