"""The demo's sandbox accounts and credits (make run)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from channels_out.ledger import available_credits
from channels_out.models import ChannelAccount

pytestmark = pytest.mark.django_db


def test_it_creates_valid_default_accounts_on_every_channel_once() -> None:
    call_command("setup_sandbox", verbosity=0)
    call_command("setup_sandbox", verbosity=0)
    accounts = {a.channel: a for a in ChannelAccount.objects.all()}
    assert set(accounts) == {"email", "sms", "whatsapp", "viber"}
    assert all(a.is_default and a.backend == "sandbox" for a in accounts.values())
    assert accounts["viber"].fallback_account == accounts["sms"]
    for account in accounts.values():
        account.full_clean()  # what the admin would accept
    assert available_credits() == Decimal(500)
