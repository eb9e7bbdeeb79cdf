"""Template filters of the front-desk screens: badges, phone numbers, message sources."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from channels_out.sources import message_source_label
from crm_messaging.phones import format_phone_international

register = template.Library()

# Reservation status → the stylesheet's badge colour.
_STAY_BADGES = {"checked_in": "ok", "cancelled": "failed", "no_show": "warn"}


@register.filter
def stay_badge(status: str) -> str:
    """The badge class for a reservation status."""
    return _STAY_BADGES.get(status, "")


@register.filter
def phone(value: str) -> str:
    """A stored E.164 number as people read it (+90 532 123 45 67); anything else as it is."""
    return format_phone_international(value) if value and value.startswith("+") else value


@register.filter
def message_source(value: str) -> Any:
    """Where a message came from, in words."""
    return message_source_label(value)


_STAY_ACTIONS = {
    "create": _("booked"),
    "modify": _("changed"),
    "check_in": _("checked in"),
    "check_out": _("checked out"),
    "cancel": _("cancelled"),
    "no_show": _("marked as a no-show"),
}


@register.filter
def stay_action(value: str) -> Any:
    """A reservation status change's action, in words."""
    return _STAY_ACTIONS.get(value, value.replace("_", " "))


@register.filter
def changes_text(changes: dict[str, Any]) -> str:
    """What a modification changed: "departure 2026-05-03 → 2026-05-05; room_number 12 → 14"."""
    if not isinstance(changes, dict):
        return ""
    parts = []
    for field, values in changes.items():
        if isinstance(values, list | tuple) and len(values) == 2:
            parts.append(f"{field.replace('_', ' ')} {values[0] or '—'} → {values[1] or '—'}")
    return "; ".join(parts)
