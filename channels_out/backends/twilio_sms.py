"""SMS through Twilio Programmable Messaging (S2, S6).

Everything but the channel is shared with WhatsApp in ``twilio_common``: the send call and
how its errors are read, the signed status callbacks, inbound messages (STOP/START are
acted on by ``services.inbound``) and the empty TwiML answer. In the Twilio console, point
the number's "A message comes in" webhook at ``{PUBLIC_BASE_URL}/hooks/<account id>/inbound/``;
status callbacks name their URL per message.
"""

from __future__ import annotations

from guests.models import ContactChannel

from .twilio_common import TwilioBackend


class TwilioSmsBackend(TwilioBackend):
    name = "twilio_sms"
    label = "Twilio SMS"
    channels = (ContactChannel.SMS,)
