"""What the CRM core's admin pages share: the signed-in staff member, guest warnings, search terms.

The helpers every app's admin uses (links, refusals, service-backed and read-only classes)
are in ``crm_messaging.ui.admin``.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html

from crm_messaging.phones import normalise_phone

from ..models import (
    Guest,
    Reservation,
)

Status = Reservation.Status

_WARNING_STYLE = (
    "display:block;padding:8px 12px;border-radius:4px;background:#ba2121;color:#fff;"
    "font-weight:bold;white-space:normal"
)


def _staff(request: HttpRequest) -> AbstractBaseUser | None:
    """The signed-in staff member, as the services take him."""
    user = request.user
    return user if isinstance(user, AbstractBaseUser) else None


def _warning_box(note: str) -> str:
    return format_html('<span style="{}">⚠ {}</span>', _WARNING_STYLE, linebreaksbr(note))


def _warning_icon(guest: Guest) -> str:
    if not guest.warning_note:
        return ""
    return format_html(
        ' <span title="{}" style="color:#ba2121;cursor:help">⚠</span>', guest.warning_note
    )


def _phone_or_none(term: str) -> str | None:
    """Return the search term as an E.164 number when it reads as one (e.g. "0532 123 45 67")."""
    if not re.fullmatch(r"[\d\s()+./-]{6,}", term):
        return None
    try:
        return normalise_phone(term)
    except ValidationError:
        return None


def _reservation_pk(term: str) -> int | None:
    """Read a confirmation number as staff quote it (R0000042, r42) into the reservation id."""
    match = re.fullmatch(r"[Rr]0*(\d{1,18})", term)
    return int(match.group(1)) if match else None
