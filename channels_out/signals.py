"""Signals the sender layer sends, for the layers above (monitoring counts them, webhooks
turn them into events for the hotel's other systems).

The message signals are sent inside the transaction that made the change, so a receiver may
write rows that commit or roll back with it (an outbox); receivers only schedule other work
with ``transaction.on_commit``.
"""

from __future__ import annotations

from django.dispatch import Signal

# A provider webhook failed its authenticity check and was answered 403.
# Sent with ``account_id`` (int) and ``kind`` ("status" or "inbound").
webhook_rejected = Signal()

# Messages moved forward in status, in one transaction (a delivery batch, a receipt, an
# operator's decision). Sent with ``changes``: a list of (OutboundMessage, previous status).
message_status_changed = Signal()

# An inbound message was recorded (once per provider message). Sent with ``inbound``
# (InboundMessage).
inbound_received = Signal()
