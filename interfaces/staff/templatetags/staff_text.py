"""Template filters of the staff screens' wording."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template

from crm_messaging.i18n import lower_label as _lower_label
from crm_messaging.i18n import plural_count as _plural_count

register = template.Library()


@register.filter
def lower_label(value: object) -> str:
    """A label in lower case as the page's language writes it (Turkish: İ → i, I → ı)."""
    return _lower_label(value)


@register.filter
def timedelta_minutes(value: object) -> int:
    """Whole minutes of a timedelta (the lock-out's cool-off), rounded up."""
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else 0
    return int(-(-seconds // 60))


@register.filter
def plural_count(value: Decimal | int) -> int:
    """The count that picks an amount's singular or plural ("cost 1 credit", "cost 1.5 credits")."""
    return _plural_count(value)
