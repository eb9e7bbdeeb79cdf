"""The inbox listens to the layers below: a guest's message opens (or re-opens) a conversation;
merging two guests combines their conversations.

The signal comes inside the transaction that recorded the message, so the conversation and
the message commit together or not at all.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from channels_out.models import InboundMessage
from channels_out.signals import inbound_received
from guests.models import Guest
from guests.signals import guests_merging

from .services import conversation_record_inbound, conversations_merge_guests


@receiver(inbound_received, dispatch_uid="inbox.conversation_record_inbound")
def inbound_to_conversation(sender: Any, message: InboundMessage, **kwargs: Any) -> None:
    conversation_record_inbound(message=message)


@receiver(guests_merging, dispatch_uid="inbox.conversations_merge_guests")
def merge_conversations(sender: Any, source: Guest, target: Guest, **kwargs: Any) -> None:
    conversations_merge_guests(source=source, target=target)
