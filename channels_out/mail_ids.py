"""Our e-mails' Message-IDs and per-message reply addresses: how a guest's reply finds its message.

The Message-ID is fixed when a message is logged (``OutboundMessage.email_message_id``), so a
retry carries the same one and a reply's ``In-Reply-To`` names the row whichever backend sent
it. With ``EMAIL_REPLY_ADDRESS`` set (``reply@hotel.example``), each e-mail also gets its own
Reply-To, ``reply+<token>@hotel.example``, the token being the Message-ID's random part.
"""

from __future__ import annotations

import re
from email.utils import make_msgid

from django.conf import settings
from django.core.mail.utils import DNS_NAME

_TOKEN = re.compile(r"[A-Za-z0-9._-]{8,100}")


def new_message_id(sender: str) -> str:
    """A new Message-ID on the sender address's domain (the host's name when it has none)."""
    domain = sender.rpartition("@")[2]
    try:
        domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        domain = ""
    return make_msgid(domain=domain or DNS_NAME.get_fqdn())


def reply_token(message_id: str) -> str:
    """The part of ``message_id`` a reply address carries, or "" if it cannot carry it."""
    local = message_id.strip().strip("<>").partition("@")[0]
    return local if _TOKEN.fullmatch(local) else ""


def reply_address(message_id: str) -> str:
    """The per-message Reply-To for ``message_id``, or "" when ``EMAIL_REPLY_ADDRESS`` is unset."""
    base = str(getattr(settings, "EMAIL_REPLY_ADDRESS", "") or "")
    local, _at, domain = base.rpartition("@")
    token = reply_token(message_id)
    if not local or not domain or not token:
        return ""
    return f"{local}+{token}@{domain}"


def token_of_reply_address(address: str) -> str:
    """The token of one of our reply addresses, or "" for any other address."""
    base = str(getattr(settings, "EMAIL_REPLY_ADDRESS", "") or "")
    local, _at, domain = base.rpartition("@")
    if not local:
        return ""
    match = re.fullmatch(
        rf"{re.escape(local)}\+([A-Za-z0-9._-]{{8,100}})@{re.escape(domain)}",
        address.strip(),
        re.IGNORECASE,
    )
    return match.group(1) if match else ""
