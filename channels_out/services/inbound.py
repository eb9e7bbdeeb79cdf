"""Inbound messages (S6): opt-out/opt-in keywords and the automatic answer."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from guests.models import ConsentPurpose, ConsentSource, Guest
from guests.services import guest_record_consent

from ..backends import Inbound
from ..models import ChannelAccount, InboundMessage
from ..signals import inbound_received
from .messages import Step, message_send

# Carrier-standard keywords (the same Twilio honours on long codes).
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})


def keyword_of(body: str) -> str:
    """Return the keyword a message consists of (case and surrounding punctuation ignored), or ""."""
    word = body.strip().strip(".!").upper()
    return word if word in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS else ""


@transaction.atomic
def inbound_receive(*, account: ChannelAccount, inbound: Inbound) -> InboundMessage | None:
    """Record an inbound message once; act on STOP/START; answer with the account's auto-reply.

    A repeated webhook for the same provider message does nothing (returns None).
    """
    guests = list(Guest.objects.filter(phone=inbound.from_number, phone_valid=True))
    keyword = keyword_of(inbound.body)
    try:
        with transaction.atomic():
            record = InboundMessage.objects.create(
                account=account,
                channel=inbound.channel,
                provider_message_id=inbound.provider_message_id,
                from_number=inbound.from_number,
                guest=guests[0] if guests else None,
                body=inbound.body[:5000],
                keyword=keyword,
            )
    except IntegrityError:
        return None
    inbound_received.send(sender=InboundMessage, inbound=record)
    if keyword:
        for guest in guests:
            guest_record_consent(
                guest=guest,
                purpose=ConsentPurpose.MARKETING,
                channel=inbound.channel,
                granted=keyword in OPT_IN_KEYWORDS,
                source=ConsentSource.INBOUND_KEYWORD,
                note=f"replied {keyword} to {account.sender or account.name}",
            )
    elif account.auto_reply.strip():
        message_send(
            steps=Step(
                channel=inbound.channel,
                account=account,
                text=account.auto_reply.strip(),
                to=inbound.from_number,
            ),
            purpose=ConsentPurpose.SERVICE,
            guest=guests[0] if guests else None,
            dedupe_key=f"auto-reply:{account.pk}:{inbound.provider_message_id}",
            source="auto_reply",
        )
    return record
