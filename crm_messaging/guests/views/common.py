"""What the front-desk screens share: pages, redirects, refusals, the audit trail, search."""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from crm_messaging.phones import InvalidPhone, normalise_phone

logger = logging.getLogger("crm_messaging.guests.screens")

PAGE_SIZE = 25
R_NUMBER = re.compile(r"[Rr]?0*(\d{1,12})")


def paginate(
    request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE, param: str = "page"
) -> Page:
    """The requested page; a missing or bad number gives the first page, one past the end the last."""
    return Paginator(queryset, per_page).get_page(request.GET.get(param))


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a POST: the form's ``next`` if it is on this site, else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def refusal(error: ValidationError) -> str:
    """A service's refusal as one sentence for a flash message."""
    return " ".join(error.messages)


def limit_param(request: HttpRequest, name: str, default: int, maximum: int = 500) -> int:
    """A "show more" size from the query string, kept between ``default`` and ``maximum``."""
    raw = request.GET.get(name, "")
    return min(max(int(raw), default), maximum) if raw.isdigit() else default


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
