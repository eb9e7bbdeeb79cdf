"""The inbox listens to the sender layer: a guest's message opens (or re-opens) a conversation.

The signal comes inside the transaction that recorded the message, so the conversation and
the message commit together or not at all.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from channels_out.models import InboundMessage
from channels_out.signals import inbound_received

from .services import conversation_record_inbound


@receiver(inbound_received, dispatch_uid="inbox.conversation_record_inbound")
def inbound_to_conversation(sender: Any, message: InboundMessage, **kwargs: Any) -> None:
    conversation_record_inbound(message=message)
