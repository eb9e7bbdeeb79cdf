"""Guests' e-mail replies (S6): matched to the message they answer, quoted history stripped.

Every e-mail we send carries our own Message-ID (``OutboundMessage.email_message_id``) and,
when ``EMAIL_REPLY_ADDRESS`` is set, a per-message Reply-To (``reply+<token>@domain``). A reply
— read from a mailbox by the IMAP poller (``channels_out.mailboxes``) or handed over by an
ESP's inbound webhook — is matched by its ``In-Reply-To``/``References`` headers or the
address it was sent to, and recorded as an ``InboundMessage`` on the e-mail channel (so the
inbox shows it in the guest's conversation). Mail that answers nothing of ours and comes
from no known guest is left alone: a mailbox also receives spam.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from django.db import transaction
from django.db.models import Q

from guests.contacts import normalise_email
from guests.models import ContactChannel, Guest

from ..mail_ids import token_of_reply_address
from ..models import ChannelAccount, InboundMessage, OutboundMessage
from ..text import html_to_text, storable
from .inbound import inbound_record
from .messages import default_account

logger = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# The first line of a quoted reply, as the mail programs our guests use write it
# (Gmail, Outlook, Apple Mail, Thunderbird in English, Turkish, German and Russian).
_QUOTE_HEADERS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^On\b.{0,200}\bwrote:?\s*$",
        r"^.{0,200}\btarihinde\b.{0,200}\b(?:şunu )?yazdı:?\s*$",
        r"^Am\b.{0,200}\bschrieb\b.{0,200}:?\s*$",
        r"^.{0,200}\bпишет:?\s*$",
        r"^.{0,200}\bнаписал[а]?:?\s*$",
        r"^-{2,}\s*(?:Original Message|Orijinal İleti|Ursprüngliche Nachricht|Исходное сообщение)\s*-{2,}\s*$",
        r"^_{10,}\s*$",  # Outlook's line above the quoted headers
        r"^(?:From|Kimden|Von|От):\s.+$",
    )
]


def strip_quoted(text: str) -> str:
    """Return what the guest wrote, without the quoted history below it (``> …`` lines, the
    "On … wrote:" line and everything after it) and without a signature separator's tail."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith(">"):
            break
        if any(pattern.match(stripped) for pattern in _QUOTE_HEADERS):
            break
        if line.rstrip() == "--":  # RFC 3676 signature separator "-- "
            break
        kept.append(line)
    return "\n".join(kept).strip()


@dataclass(frozen=True)
class InboundEmail:
    """An e-mail as the sources hand it over, whatever they got it as (MIME, ESP fields)."""

    message_id: str
    from_address: str
    subject: str = ""
    text: str = ""
    html: str = ""
    to: tuple[str, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    sent_at: dt.datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_mime(cls, raw: bytes | Message) -> InboundEmail:
        """Read a raw RFC 5322 message (as IMAP returns it) or a parsed one (an ESP's, as
        django-anymail hands it over); what the database cannot store (a NUL) is cleaned
        (``text.storable``), so one such e-mail neither fails nor holds up the mail after it."""
        if isinstance(raw, Message) and not isinstance(raw, EmailMessage):
            raw = raw.as_bytes()
        if isinstance(raw, bytes):
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
        else:
            parsed = raw

        def header(name: str) -> str:
            try:
                return str(parsed.get(name, "") or "")
            except (ValueError, TypeError, IndexError):  # a header the parser cannot read
                return ""

        text = html = ""
        try:
            part = parsed.get_body(preferencelist=("plain",))
            text = part.get_content() if part is not None else ""
            part = parsed.get_body(preferencelist=("html",))
            html = part.get_content() if part is not None else ""
        except (LookupError, UnicodeError, ValueError):  # an unknown charset, a broken part
            text = text or ""
        sent_at = None
        try:
            sent_at = parsedate_to_datetime(header("Date")) if header("Date") else None
        except (TypeError, ValueError):
            sent_at = None
        if sent_at is not None and sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=dt.UTC)
        addresses = getaddresses([header("From")])
        return storable(
            cls(
                message_id=header("Message-ID").strip(),
                from_address=addresses[0][1] if addresses else "",
                subject=header("Subject"),
                text=str(text),
                html=str(html),
                to=tuple(a for _n, a in getaddresses([header("To"), header("Cc")]) if a),
                in_reply_to=header("In-Reply-To"),
                references=tuple(_MESSAGE_ID.findall(header("References"))),
                sent_at=sent_at,
            )
        )

    def answered_ids(self) -> list[str]:
        """The Message-IDs this e-mail answers, the direct parent first."""
        ids = _MESSAGE_ID.findall(self.in_reply_to) + list(reversed(self.references))
        return list(dict.fromkeys(ids))


def _answered_message(mail: InboundEmail) -> OutboundMessage | None:
    """Our e-mail that ``mail`` answers: by its headers, else by the reply address it went to."""
    ids = mail.answered_ids()
    if ids:
        found = {
            m.email_message_id or m.provider_message_id: m
            for m in OutboundMessage.objects.filter(
                Q(email_message_id__in=ids) | Q(provider_message_id__in=ids),
                channel=ContactChannel.EMAIL,
            ).select_related("account", "guest")
        }
        for message_id in ids:
            if message_id in found:
                return found[message_id]
    for address in mail.to:
        token = token_of_reply_address(address)
        if token:
            return (
                OutboundMessage.objects.filter(
                    channel=ContactChannel.EMAIL, email_message_id__startswith=f"<{token}@"
                )
                .select_related("account", "guest")
                .first()
            )
    return None


@transaction.atomic
def email_reply_receive(
    *, mail: InboundEmail, account: ChannelAccount | None = None
) -> InboundMessage | None:
    """Record a guest's e-mail reply once (by its Message-ID) and return it.

    It belongs to the message it answers (its guest and account); failing a match, to the
    guest with the sender's address and ``account`` (else the default e-mail account). Mail
    that matches neither, has no sender or no Message-ID, or was recorded before, is not
    recorded (returns None).
    """
    # Lower case: one sender, one conversation, however their mail program spells them.
    sender = normalise_email(mail.from_address).lower() if mail.from_address else ""
    if not sender or not mail.message_id:
        return None
    answered = _answered_message(mail)
    guest = answered.guest if answered is not None else None
    if guest is None:
        guest = Guest.objects.filter(email__iexact=sender).order_by("pk").first()
    if answered is None and guest is None:
        logger.info("E-mail from %s answers none of our messages; not recorded", sender)
        return None
    target = (answered.account if answered is not None else None) or account
    target = target or default_account(ContactChannel.EMAIL)
    if target is None:
        return None
    body = strip_quoted(mail.text or html_to_text(mail.html))
    return inbound_record(
        account=target,
        channel=ContactChannel.EMAIL,
        provider_message_id=mail.message_id,
        sender=sender,
        guest=guest,
        subject=mail.subject,
        body=body,
        sent_at=mail.sent_at,
        in_reply_to=answered,
    )
