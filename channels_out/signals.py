"""Signals the sender layer sends, for the layers above (monitoring counts them)."""

from __future__ import annotations

from django.dispatch import Signal

# A provider webhook failed its authenticity check and was answered 403.
# Sent with ``account_id`` (int) and ``kind`` ("status" or "inbound").
webhook_rejected = Signal()
