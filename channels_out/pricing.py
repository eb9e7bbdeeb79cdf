"""Prices (K1): credits per SMS part or message, per channel and destination country."""

from __future__ import annotations

from decimal import Decimal

from guests.models import ContactChannel

from .models import PriceRule

# Used when the price table has no rule for a channel (1 EUR = 10 credits; seed 001).
DEFAULT_CREDITS_PER_UNIT: dict[str, Decimal] = {
    ContactChannel.SMS: Decimal("1"),
    ContactChannel.VIBER: Decimal("1"),
    ContactChannel.WHATSAPP: Decimal("0"),
    ContactChannel.EMAIL: Decimal("0"),
}


class PriceTable:
    """The price rules loaded once, for pricing many messages without a query each."""

    def __init__(self) -> None:
        self._rules = {
            (r.channel, str(r.country)): r.credits_per_unit for r in PriceRule.objects.all()
        }

    def per_unit(self, channel: str, country: str) -> Decimal:
        for key in ((channel, country or ""), (channel, "")):
            if key in self._rules:
                return self._rules[key]
        return DEFAULT_CREDITS_PER_UNIT[channel]

    def cost(self, channel: str, country: str, segments: int) -> Decimal:
        """Credits for one message: SMS pay per part, the other channels per message."""
        units = max(segments, 1) if channel == ContactChannel.SMS else 1
        return self.per_unit(channel, country) * units
