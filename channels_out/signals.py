"""Signals the sender layer sends, for the layers above (monitoring counts them)."""

from __future__ import annotations

from django.dispatch import Signal

# A provider webhook failed its authenticity check and was answered 403.
# Sent with ``account_id`` (int) and ``kind`` ("status" or "inbound").
webhook_rejected = Signal()

# A guest's message was recorded (once per provider message), inside the transaction that
# wrote it: receivers may write rows that commit or roll back with it.
# Sent with ``message`` (InboundMessage).
inbound_received = Signal()
