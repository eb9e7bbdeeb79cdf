"""WhatsApp through Twilio Programmable Messaging (S2, S6, C8).

Addresses are ``whatsapp:+E164`` both ways. A business-initiated message goes as an
approved template (``template_id`` is the Content SID, ``template_variables`` its
variables); free text is only allowed within 24 hours of the guest's last message, and
outside that window Twilio refuses it with error 63016, which is final for the message
(the plan's next step takes over). The rest is shared with SMS in ``twilio_common``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from guests.models import ContactChannel

from .twilio_common import TwilioBackend

if TYPE_CHECKING:
    from ..models import OutboundMessage


class TwilioWhatsAppBackend(TwilioBackend):
    name = "twilio_whatsapp"
    label = "Twilio WhatsApp"
    channels = (ContactChannel.WHATSAPP,)
    address_prefix = "whatsapp:"
    permanent_codes = frozenset({"63016"})

    def content_params(self, message: OutboundMessage) -> dict[str, Any]:
        """Return the approved template and its variables, or the free text."""
        if message.template_id:
            params: dict[str, Any] = {"content_sid": message.template_id}
            if message.template_variables:
                params["content_variables"] = json.dumps(message.template_variables)
            return params
        return {"body": message.body}
