"""Inbound messages (S6): recorded once, opt-out/opt-in keywords, the away message.

Every inbound message — an SMS, a WhatsApp or Viber message, an e-mail reply — is written by
``inbound_record``, which sends ``signals.inbound_received`` in the same transaction (the
inbox opens its conversation there), so a message is either recorded with everything it
causes or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm_messaging.actors import Actor, record_staff_action
from guests.models import ConsentPurpose, ConsentSource, ContactChannel, Guest
from guests.services import guest_record_consent

from ..backends import Inbound
from ..models import ChannelAccount, InboundMessage, OutboundMessage
from ..opt_out import keyword_of, opts_in
from ..signals import inbound_received
from .messages import Step, message_send

logger = logging.getLogger(__name__)

# One away message per sender and account in this time: a guest who writes five lines at
# night gets one answer, not five.
AWAY_MESSAGE_EVERY = dt.timedelta(hours=12)
MAX_BODY_CHARS = 5000
KEYWORD_CHARS = InboundMessage._meta.get_field("keyword").max_length or 20


def inbound_record(
    *,
    account: ChannelAccount,
    channel: str,
    provider_message_id: str,
    sender: str,
    guest: Guest | None,
    body: str,
    subject: str = "",
    keyword: str = "",
    sent_at: dt.datetime | None = None,
    in_reply_to: OutboundMessage | None = None,
) -> InboundMessage | None:
    """Write one inbound message and tell the layers above (``inbound_received``), in the
    caller's transaction; return None when this provider message was recorded before."""
    now = timezone.now()
    try:
        with transaction.atomic():
            record = InboundMessage.objects.create(
                account=account,
                channel=channel,
                provider_message_id=provider_message_id[:255],
                from_number=sender[:254],
                guest=guest,
                subject=subject[:255],
                body=body[:MAX_BODY_CHARS],
                # As the guest wrote it; cut like the other fields (accents written as
                # combining marks may make a keyword long).
                keyword=keyword[:KEYWORD_CHARS],
                in_reply_to=in_reply_to,
                received_at=now,
                # A provider clock ahead of ours does not put the message in the future.
                sent_at=min(sent_at, now) if sent_at else now,
            )
    except IntegrityError:
        return None
    inbound_received.send(sender=InboundMessage, message=record)
    return record


@transaction.atomic
def inbound_receive(*, account: ChannelAccount, inbound: Inbound) -> InboundMessage | None:
    """Record an inbound message once; act on an opt-out or opt-in keyword in any guest
    language (``opt_out.keyword_of``: STOP, RET, İPTAL, СТОП … / START, BAŞLA …, in any case,
    with or without Turkish dots and accents); answer with the account's away message outside
    its staffed hours. The keyword is recorded (message, consent note) as the guest wrote it.

    A repeated webhook for the same provider message does nothing (returns None).
    """
    guests = list(Guest.objects.filter(phone=inbound.from_number, phone_valid=True))
    keyword = keyword_of(inbound.body)
    record = inbound_record(
        account=account,
        channel=inbound.channel,
        provider_message_id=inbound.provider_message_id,
        sender=inbound.from_number,
        guest=guests[0] if guests else None,
        body=inbound.body,
        keyword=keyword,
        sent_at=inbound.sent_at,
    )
    if record is None:
        return None
    if keyword:
        for guest in guests:
            guest_record_consent(
                guest=guest,
                purpose=ConsentPurpose.MARKETING,
                channel=inbound.channel,
                granted=opts_in(keyword),
                source=ConsentSource.INBOUND_KEYWORD,
                note=f"replied {record.keyword} to {account.sender or account.name}",
            )
    elif inbound.channel != ContactChannel.EMAIL and away_message_due(
        account=account, to=inbound.from_number, at=record.received_at
    ):
        _away_message_send(
            account=account, inbound=inbound, record=record, guest=guests[0] if guests else None
        )
    return record


def _away_message_send(
    *, account: ChannelAccount, inbound: Inbound, record: InboundMessage, guest: Guest | None
) -> None:
    """Answer ``inbound`` (recorded as ``record``) with the account's away message, once
    (keyed by the record, whatever the length of the provider's id). An answer
    ``message_send`` refuses (an address no message can go to: longer than the log holds, a
    character no provider takes) is logged as a warning and not sent; the guest's message
    stays recorded."""
    try:
        message_send(
            steps=Step(
                channel=inbound.channel,
                account=account,
                text=account.auto_reply.strip(),
                to=inbound.from_number,
            ),
            purpose=ConsentPurpose.SERVICE,
            guest=guest,
            dedupe_key=f"auto-reply:{record.pk}",
            source="auto_reply",
        )
    except ValidationError as exc:
        logger.warning(
            "Away message for inbound message %s on account %s not sent: %s",
            record.pk,
            account.pk,
            "; ".join(exc.messages),
        )


def away_message_due(*, account: ChannelAccount, to: str, at: dt.datetime) -> bool:
    """Whether an inbound message to ``account`` at ``at`` gets the away message: the account
    has one, nobody is on duty then (``ChannelAccount.is_staffed``), and ``to`` had none from
    this account in the last ``AWAY_MESSAGE_EVERY``."""
    if not account.auto_reply.strip() or account.channel == ContactChannel.EMAIL:
        return False
    if account.is_staffed(at):
        return False
    return not OutboundMessage.objects.filter(
        account=account, to=to, source="auto_reply", created_at__gte=at - AWAY_MESSAGE_EVERY
    ).exists()


@transaction.atomic
def inbound_link_guest(*, sender: str, guest: Guest, user: Actor = None) -> int:
    """Attribute the messages an unknown ``sender`` (number or e-mail) sent us to ``guest``
    (staff recognised them); return how many. Messages already someone's are left alone."""
    linked = InboundMessage.objects.filter(from_number=sender, guest__isnull=True).update(
        guest=guest
    )
    if linked:
        record_staff_action(user, guest, f"Linked {linked} message(s) from {sender} to this guest")
    return linked
