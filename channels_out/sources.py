"""Where a message came from (``OutboundMessage.source``), in words staff read."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGE_SOURCES: dict[str, Promise] = {
    "front_desk": _("front desk"),
    "campaign": _("campaign"),
    "fallback": _("fallback"),
    "resend": _("resend"),
    "portal": _("guest portal"),
    "auto_reply": _("automatic reply"),
    "test": _("test"),
    "api": _("system"),
}

# Who or what recorded a delivery event (``DeliveryEvent.source``).
EVENT_SOURCES: dict[str, Promise] = {
    "dispatch": _("sender"),
    "queue": _("queue"),
    "sweeper": _("sweeper"),
    "webhook": _("provider's receipt"),
    "operator": _("staff"),
    "policy": _("quiet hours"),
    "fallback": _("fallback"),
}


def event_source_label(value: str) -> str:
    """The event source ``value`` in words, in the active language."""
    label = EVENT_SOURCES.get(value)
    return str(label) if label is not None else str(_("other"))


def message_source_label(value: str) -> str:
    """The source ``value`` in words, in the active language; an unknown one as "other"."""
    label = MESSAGE_SOURCES.get(value)
    return str(label) if label is not None else str(_("other"))
