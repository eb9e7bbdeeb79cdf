"""How long a message may be, per channel: the one rule the sender refuses by and the live
counter warns with before Send."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from guests.models import ContactChannel

MAX_SMS_CHARS = 1600  # 10+ parts: beyond this providers refuse or truncate
MAX_VIBER_CHARS = 1000
MAX_WHATSAPP_CHARS = 1600

TEXT_LIMITS = {
    ContactChannel.SMS: MAX_SMS_CHARS,
    ContactChannel.VIBER: MAX_VIBER_CHARS,
    ContactChannel.WHATSAPP: MAX_WHATSAPP_CHARS,
}
# Each language words "an SMS" / "a Viber" its own way.
_TOO_LONG = {
    ContactChannel.SMS: gettext_lazy(
        "An SMS message is at most %(limit)s characters; this one has %(length)s."
    ),
    ContactChannel.VIBER: gettext_lazy(
        "A Viber message is at most %(limit)s characters; this one has %(length)s."
    ),
    ContactChannel.WHATSAPP: gettext_lazy(
        "A WhatsApp message is at most %(limit)s characters; this one has %(length)s."
    ),
}


def text_too_long(channel: str, text: str) -> str:
    """The refusal of ``text`` as too long for ``channel`` (in the active language), or ""."""
    limit = TEXT_LIMITS.get(ContactChannel(channel)) if channel in ContactChannel.values else None
    if limit is None or len(text) <= limit:
        return ""
    return str(_TOO_LONG[ContactChannel(channel)] % {"limit": limit, "length": len(text)})
