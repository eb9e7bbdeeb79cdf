"""What a message will be: length, encoding, parts and cost against the balance (the live
counter under every message box)."""

from __future__ import annotations

from decimal import Decimal

from crm_messaging.phones import InvalidPhone, phone_info
from guests.models import ConsentPurpose, ContactChannel

from .ledger import PriceTable
from .models import ChannelAccount
from .opt_out import text_as_sent as with_opt_out
from .selectors import credit_balance
from .services.messages import default_account
from .text import count_segments, text_too_long
from .tracking import text_as_sent


def message_meter(
    *,
    text: str,
    channel: str,
    to: str = "",
    recipients: int = 1,
    shorten_links: bool = False,
    purpose: str = "",
    language: str = "",
    account: ChannelAccount | None = None,
) -> dict[str, object]:
    """What staff see under a message box: length, encoding, parts, the characters forcing
    UCS-2, and the cost against the balance (S4, S8, C11) — or, for a text longer than the
    channel takes, the sender's own refusal (``too_long``) instead of parts and cost.

    ``shorten_links`` (a campaign's *shorten links in SMS*): an SMS is measured as it will go,
    each outside link as long as its short link (``tracking.text_as_sent``, the sender's rule).
    A marketing SMS, Viber message or WhatsApp free text (``purpose``) is measured with the
    opt-out hint it goes with, in ``language``, from ``account`` (default: the channel's
    default account), by the sender's rule (``opt_out.text_as_sent``); ``opt_out`` says so.
    The length limit is the sender's too, on the text with that hint (before links are
    shortened, as the sender judges it)."""
    is_sms = channel == ContactChannel.SMS
    with_hint = text
    if purpose == ConsentPurpose.MARKETING and text.strip() and channel in ContactChannel.values:
        with_hint = with_opt_out(
            text,
            channel=channel,
            purpose=purpose,
            account=account or default_account(channel),
            language=language,
        )
    opt_out = with_hint != text
    text = with_hint
    too_long = text_too_long(channel, text)
    shortened = shorten_links and is_sms
    if shortened:
        text = text_as_sent(text)
    info = count_segments(text)
    country = ""
    if to:
        try:
            country = phone_info(to).region or ""
        except InvalidPhone:
            country = ""
    parts = info.parts if channel == ContactChannel.SMS else (1 if text.strip() else 0)
    if too_long:
        parts = 0  # it will not be sent: no parts, no cost
    cost = PriceTable().cost(channel, country, parts) * recipients if parts else Decimal(0)
    balance = credit_balance()
    return {
        "characters": len(text),
        "info": info,
        "channel": channel,
        "is_sms": is_sms,
        "parts": parts,
        "cost": cost,
        "balance": balance,
        "short": cost > balance.available,
        "too_long": too_long,
        "country": country,
        "shortened": shortened,
        "opt_out": opt_out,
    }
