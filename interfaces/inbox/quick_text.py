"""What a quick reply's text may hold, the one place for it: the placeholders the filler
fills (``services.quick_reply_text``) and the checks a quick reply passes when saved and
again when used (one saved before the checks existed is refused, not sent as written)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.translation import gettext

from channels_out.policy import whatsapp_template_error
from channels_out.services.messages import unsendable
from channels_out.text import TEXT_LIMITS, text_too_long

PLACEHOLDERS = ("first_name", "last_name", "room", "arrival", "departure", "hotel")
"""The placeholders a quick reply may use, ``{first_name}`` …; the filler fills exactly these."""
_BRACED = re.compile(r"\{([^{}]*)\}")


def fill(body: str, values: Mapping[str, str]) -> str:
    """``body`` with each placeholder replaced by its value (``body`` passed ``body_error``)."""
    return _BRACED.sub(lambda match: values[match.group(1)], body)


def body_error(body: str) -> str | None:
    """Why ``body`` cannot be a quick reply's text (in the active language), or None."""
    unsent = unsendable("text", body, body=True)
    if unsent:
        return unsent
    known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    for match in _BRACED.finditer(body):
        if match.group(1) not in PLACEHOLDERS:
            return gettext(
                "Unknown placeholder %(placeholder)s; a quick reply can use %(known)s."
            ) % {"placeholder": match.group(), "known": known}
    if "{" in _BRACED.sub("", body) or "}" in _BRACED.sub("", body):
        return gettext(
            "A “{” or “}” without its pair: braces are only for placeholders, written "
            "whole, such as {first_name}; a quick reply can use %(known)s."
        ) % {"known": known}
    # A quick reply may answer on any channel: it must fit the smallest of their limits.
    for channel in sorted(TEXT_LIMITS, key=TEXT_LIMITS.__getitem__):
        too_long = text_too_long(channel, body)
        if too_long:
            return too_long
    return None


def errors(body: str, whatsapp_template_id: str) -> dict[str, str]:
    """Every field of a quick reply with what is wrong with it (empty when it may be sent)."""
    found = {
        "body": body_error(body),
        "whatsapp_template_id": unsendable("template_id", whatsapp_template_id)
        or whatsapp_template_error(whatsapp_template_id),
    }
    return {name: message for name, message in found.items() if message}
