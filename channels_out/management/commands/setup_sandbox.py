"""Give the demo hotel sandbox accounts on every channel and some credits (idempotent)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from channels_out.ledger import available_credits, credits_add
from channels_out.models import ChannelAccount, LedgerEntry, PriceRule

# Answers a guest's message outside the front desk's hours (the inbox answers within them).
AWAY_MESSAGE = (
    "Thank you for your message. The front desk answers between 08:00 and 23:00; "
    "for anything urgent please call +90 242 000 00 00."
)
SANDBOX_ACCOUNTS: list[dict[str, Any]] = [
    {
        "channel": "email",
        "name": "Sandbox e-mail",
        "sender": "reservations@lykiabay.example",
        "sender_name": "Hotel Lykia Bay",
    },
    {
        "channel": "sms",
        "name": "Sandbox SMS",
        "sender": "LYKIA BAY",
        "auto_reply": AWAY_MESSAGE,
        "staffed_from": dt.time(8),
        "staffed_until": dt.time(23),
    },
    {
        "channel": "whatsapp",
        "name": "Sandbox WhatsApp",
        "sender": "+905320000001",
        "auto_reply": AWAY_MESSAGE,
        "staffed_from": dt.time(8),
        "staffed_until": dt.time(23),
    },
    {"channel": "viber", "name": "Sandbox Viber", "sender": "LYKIA BAY", "ttl_seconds": 300},
]


class Command(BaseCommand):
    help = "Create sandbox accounts for e-mail, SMS, WhatsApp and Viber (Viber falls back to SMS) and top up credits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--credits",
            type=Decimal,
            default=Decimal(500),
            help="Credits to add once (default 500).",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        made: dict[str, ChannelAccount] = {}
        for spec in SANDBOX_ACCOUNTS:
            fields = dict(spec)
            account, created = ChannelAccount.objects.get_or_create(
                name=fields.pop("name"),
                defaults={**fields, "backend": "sandbox", "rate_per_second": 20},
            )
            if (
                created
                and not ChannelAccount.objects.filter(
                    channel=account.channel, is_default=True
                ).exists()
            ):
                ChannelAccount.objects.filter(pk=account.pk).update(is_default=True)
            made[account.channel] = account
        if made["viber"].fallback_account_id is None:
            ChannelAccount.objects.filter(pk=made["viber"].pk).update(fallback_account=made["sms"])
        PriceRule.objects.get_or_create(
            channel="sms", country="", defaults={"credits_per_unit": Decimal(1)}
        )
        PriceRule.objects.get_or_create(
            channel="viber", country="", defaults={"credits_per_unit": Decimal(1)}
        )
        # Destinations abroad cost more in the demo's price table, as with real providers.
        PriceRule.objects.get_or_create(
            channel="sms", country="GB", defaults={"credits_per_unit": Decimal("1.5")}
        )
        if not LedgerEntry.objects.filter(idempotency_key="demo:welcome-credits").exists():
            credits_add(amount=options["credits"], key="demo:welcome-credits", note="demo credits")
        self.stdout.write(
            f"Sandbox accounts: {', '.join(sorted(made))}; Viber falls back to SMS. "
            f"Credits available: {available_credits()}."
        )
