"""Asking providers without delivery webhooks for their receipts (NetGSM; S6)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from ..backends import TransportError, backend_class, get_backend
from ..models import ChannelAccount, OutboundMessage, Status
from .status import StatusChange, message_apply_statuses

logger = logging.getLogger(__name__)

# A provider keeps its reports for days; a message without a final word after this is left
# as *sent* (the send log shows it so).
POLL_WINDOW = dt.timedelta(days=3)
POLL_BATCH = 100


def receipts_poll(*, now: dt.datetime | None = None) -> int:
    """Ask each active polling account about its messages still *sent*; apply what it says.

    Receipts go through ``message_apply_statuses`` (source "poll"), so they move statuses
    forward only and are kept as events like a webhook's. An account whose provider cannot
    be asked now is logged and asked again on the next poll. Returns how many messages moved.
    """
    since = (now or timezone.now()) - POLL_WINDOW
    moved = 0
    for account in ChannelAccount.objects.filter(is_active=True).order_by("pk"):
        try:
            polls = backend_class(account.backend).polls_receipts
        except KeyError:
            continue
        if not polls:
            continue
        waiting = OutboundMessage.objects.filter(
            account=account, status=Status.SENT, sent_at__gte=since
        ).exclude(provider_message_id="")
        by_id = {m.provider_message_id: m for m in waiting.order_by("sent_at")[:1000]}
        ids = list(by_id)
        backend = get_backend(account)
        for start in range(0, len(ids), POLL_BATCH):
            try:
                updates = backend.fetch_statuses(ids[start : start + POLL_BATCH])
            except TransportError as exc:
                logger.warning("Could not read receipts of account %s: %s", account.pk, exc)
                break
            changes = [
                StatusChange(
                    by_id[u.provider_message_id],
                    u.status,
                    provider_message_id=u.provider_message_id,
                    provider_status=u.provider_status,
                    code=u.code,
                    description=u.description,
                    payload=u.payload,
                )
                for u in {u.provider_message_id: u for u in updates}.values()
                if u.provider_message_id in by_id
            ]
            if changes:
                moved += sum(message_apply_statuses(changes, source="poll"))
    return moved
