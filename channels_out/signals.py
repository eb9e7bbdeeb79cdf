"""Signals the sender layer sends, for the layers above (monitoring counts them, webhooks
turn them into events for the hotel's other systems).

The credit, inbound and message signals are sent inside the transaction that made the
change, so a receiver may write rows that commit or roll back with it (an outbox); receivers
only schedule other work with ``transaction.on_commit``.
"""

from __future__ import annotations

from django.dispatch import Signal

# A webhook failed its authenticity check and was answered 403. Sent with ``kind``, which
# hook: a provider's "status" or "inbound" (with its ``account_id``, int), or "mews" (the
# Mews webhook, interfaces.mews).
webhook_rejected = Signal()

# The balance fell under the low-balance threshold (once per crossing; K5). Sent inside the
# transaction of the movement that crossed it, with ``available`` and ``threshold``
# (Decimal) and ``at`` (datetime): receivers act on commit.
credits_low = Signal()

# A reservation was refused for want of credits: automated sends stop until credits are
# added (once per stop). Sent like ``credits_low``, with ``available`` and ``at``.
credits_exhausted = Signal()
# A guest's message was recorded (once per provider message), inside the transaction that
# wrote it: receivers may write rows that commit or roll back with it.
# Sent with ``message`` (InboundMessage).
inbound_received = Signal()

# Messages moved forward in status, in one transaction (a delivery batch, a receipt, an
# operator's decision). Sent with ``changes``: a list of (OutboundMessage, previous status).
message_status_changed = Signal()
