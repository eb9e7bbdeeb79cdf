"""Template filters for showing messages: ``{{ message|quiet_hold }}`` says when a held message goes."""

from __future__ import annotations

from django import template

from ..models import OutboundMessage
from ..selectors import QuietHold, quiet_hours_hold
from ..sources import event_source_label, message_source_label

register = template.Library()


register.filter("message_source", message_source_label)
register.filter("event_source", event_source_label)


@register.filter
def quiet_hold(message: OutboundMessage) -> QuietHold | None:
    """The quiet-hours wait of ``message`` ("waits for quiet hours until 09:00 guest time"), or None."""
    return quiet_hours_hold(message)
