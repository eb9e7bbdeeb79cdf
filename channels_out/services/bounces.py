"""Asynchronous bounces of SMTP mail (E2): delivery status notifications (RFC 3464) matched
to their message by a VERP return path.

Every e-mail an SMTP account sends has its own envelope sender (the Return-Path a receiving
server mails a bounce to): ``<local>+b<message id>-<signature>@<domain>``, where
``<local>@<domain>`` is ``BOUNCE_ADDRESS`` or else the account's from address (the mailbox
must accept ``+`` sub-addresses, as Postfix, Exchange/Microsoft 365 and Gmail do). The
signature (an HMAC of the id with SECRET_KEY) means a forged report cannot name our messages.
A report read from the bounce mailbox (``delivery_report_receive``) is matched by that address
— or, failing that, by the Message-ID of the returned original — and applied like an ESP's
event (``message_track``): a permanent failure (status 5.x.x) is a hard bounce that suppresses
the address, a delay or a temporary failure (4.x.x) a soft bounce, a delivery a delivery.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses, parseaddr

from django.conf import settings

from ..backends import StatusUpdate
from ..models import ChannelAccount, OutboundMessage, Status
from ..text import storable
from .tracking import message_track

logger = logging.getLogger(__name__)

_VERP = re.compile(r"\+b(\d+)-([0-9a-f]{10})@", re.IGNORECASE)
_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


def verp_signature(message_id: int) -> str:
    key = f"channels_out.bounces:{settings.SECRET_KEY}".encode()
    return hmac.new(key, str(message_id).encode(), hashlib.sha256).hexdigest()[:10]


def verp_address(message: OutboundMessage, account: ChannelAccount) -> str:
    """The envelope sender of ``message``: the bounce address with the message's signed id."""
    base = settings.BOUNCE_ADDRESS or account.sender
    local, _, domain = base.rpartition("@")
    if not local or not domain:
        return account.sender
    local = local.split("+", 1)[0]
    return f"{local}+b{message.pk}-{verp_signature(message.pk)}@{domain}"


def read_verp(address: str) -> int | None:
    """Return the message id a VERP address names, or None (not ours, or a forged signature)."""
    match = _VERP.search(address or "")
    if match is None:
        return None
    message_id, signature = int(match.group(1)), match.group(2).lower()
    if not hmac.compare_digest(signature, verp_signature(message_id)):
        return None
    return message_id


@dataclass(frozen=True)
class RecipientReport:
    """One recipient's block of a delivery status notification."""

    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # e.g. 5.1.1
    diagnostic: str


def is_delivery_report(mail: Message) -> bool:
    """Whether ``mail`` is a DSN: ``multipart/report; report-type=delivery-status``."""
    return (
        mail.get_content_type() == "multipart/report"
        and str(mail.get_param("report-type", "")).lower() == "delivery-status"
    )


def _blocks(mail: Message) -> list[Message]:
    for part in mail.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            return (
                [block for block in payload if isinstance(block, Message)]
                if isinstance(payload, list)
                else []
            )
    return []


def delivery_report_recipients(mail: Message) -> list[RecipientReport]:
    """The per-recipient blocks of a DSN (the first block is about the message as a whole)."""
    reports = []
    for block in _blocks(mail):
        recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        action = str(block.get("Action") or "").strip().lower()
        if not recipient or not action:
            continue
        reports.append(
            RecipientReport(
                recipient=parseaddr(recipient.split(";", 1)[-1].strip())[1].lower(),
                action=action,
                status=str(block.get("Status") or "").strip(),
                diagnostic=" ".join(str(block.get("Diagnostic-Code") or "").split())[:500],
            )
        )
    return reports


def _returned_message_id(mail: Message) -> str:
    for part in mail.walk():
        if part.get_content_type() in ("text/rfc822-headers", "message/rfc822"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                found = payload[0].get("Message-ID")
            else:
                text = part.get_payload(decode=True) or b""
                headers = email.message_from_bytes(bytes(text), policy=email.policy.default)
                found = headers.get("Message-ID")
            if found:
                return str(found).strip()
    return ""


def _message_for(mail: Message) -> OutboundMessage | None:
    addresses = [
        address
        for header in ("To", "Delivered-To", "X-Original-To", "Envelope-To")
        for _, address in getaddresses(mail.get_all(header, []))
    ]
    for address in addresses:
        message_id = read_verp(address)
        if message_id is not None:
            return OutboundMessage.objects.filter(pk=message_id).first()
    returned = _returned_message_id(mail)
    if returned:
        return OutboundMessage.objects.filter(provider_message_id=returned, channel="email").first()
    return None


def report_update(report: RecipientReport, message: OutboundMessage) -> StatusUpdate:
    """The event a recipient's report stands for, in the words ESP events use."""
    status = _STATUS.search(report.status) or _STATUS.search(report.diagnostic)
    klass = status.group(1) if status else ""
    code = status.group(0) if status else ""
    ours: str
    if report.action in ("delivered", "relayed", "expanded"):
        event, ours, bounce = "delivered", Status.DELIVERED, ""
    elif report.action == "failed" and klass != "4":
        event, ours, bounce = "bounced", Status.UNDELIVERED, "hard"
    elif report.action == "failed":
        event, ours, bounce = "bounced", Status.UNDELIVERED, "soft"
    else:  # delayed
        event, ours, bounce = "deferred", "", "soft"
    return StatusUpdate(
        provider_message_id=message.provider_message_id,
        status=ours,
        provider_status=f"dsn {report.action}"[:40],
        code=code,
        description=report.diagnostic or report.status,
        payload={"recipient": report.recipient, "action": report.action, "status": report.status},
        event=event,
        bounce=bounce,
        recipient=report.recipient,
    )


def delivery_report_receive(*, raw: bytes) -> bool:
    """Apply a DSN read from the bounce mailbox; return whether it was one of ours.

    A report that names no message of ours (a forged or foreign address, no returned
    Message-ID we know) is logged and changes nothing.
    """
    mail = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not is_delivery_report(mail):
        return False
    message = _message_for(mail)
    if message is None:
        logger.info("A delivery report for no message of ours was left alone")
        return False
    reports = delivery_report_recipients(mail)
    mine = [r for r in reports if r.recipient == message.to.lower()] or reports[:1]
    for report in mine:
        # A report's words may hold what the database cannot store (a NUL): cleaned.
        message_track(message=message, update=storable(report_update(report, message)))
    return bool(mine)
