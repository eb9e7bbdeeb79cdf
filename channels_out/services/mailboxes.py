"""Reading reply mailboxes over IMAP (S6) with the standard library's ``imaplib``.

Each poll logs in, selects the folder, asks for the UIDs above the last one read, fetches
each message without marking it seen (``BODY.PEEK[]``), hands it to
``delivery_report_receive`` when it is a bounce report for one of our messages (RFC 3464,
matched by its VERP return path: point ``BOUNCE_ADDRESS`` at a mailbox polled here) and to
``email_reply_receive`` otherwise, and moves ``last_uid`` past it. Mail stays in the mailbox. A server that changed its
UIDVALIDITY is read again from the start; Message-IDs keep each reply recorded once.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl

from django.utils import timezone

from ..models import ReplyMailbox
from .bounces import delivery_report_receive
from .email_replies import InboundEmail, email_reply_receive

logger = logging.getLogger(__name__)

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")


class MailboxError(Exception):
    """The mailbox could not be read (connection, login, folder, a broken answer)."""


def _connect(mailbox: ReplyMailbox) -> imaplib.IMAP4:
    if mailbox.use_ssl:
        return imaplib.IMAP4_SSL(
            mailbox.host,
            mailbox.port,
            ssl_context=ssl.create_default_context(),
            timeout=mailbox.timeout_seconds,
        )
    return imaplib.IMAP4(mailbox.host, mailbox.port, timeout=mailbox.timeout_seconds)


def _checked(answer: tuple[str, list]) -> list:  # type: ignore[type-arg]
    kind, data = answer
    if kind != "OK":
        raise MailboxError(f"the server answered {kind}: {data!r}"[:300])
    return data


def mailbox_poll(*, mailbox: ReplyMailbox) -> int:
    """Read the new mail of ``mailbox``, record the replies and apply our bounce reports;
    return how many were recorded or applied.

    A failure is kept on the mailbox (``last_error``) and raised as MailboxError; what was
    read before it stays read.
    """
    recorded = 0
    try:
        connection = _connect(mailbox)
    except (OSError, imaplib.IMAP4.error) as exc:
        _failed(mailbox, f"could not connect to {mailbox.host}:{mailbox.port}: {exc}")
        raise MailboxError(mailbox.last_error) from exc
    try:
        _checked(connection.login(mailbox.username, str(mailbox.password or "")))
        _checked(connection.select(_quoted(mailbox.folder)))
        validity = _uid_validity(connection)
        if validity != mailbox.uid_validity:
            mailbox.uid_validity, mailbox.last_uid = validity, 0
        data = _checked(connection.uid("SEARCH", f"UID {mailbox.last_uid + 1}:*"))
        uids = sorted(int(uid) for uid in b" ".join(data or [b""]).split() if uid.isdigit())
        for uid in uids:
            if uid <= mailbox.last_uid:
                continue  # "n:*" names the newest message even when it is older than n
            raw = _fetch(connection, uid)
            if raw is None:
                pass
            elif delivery_report_receive(raw=raw) or email_reply_receive(
                mail=InboundEmail.from_mime(raw), account=mailbox.account
            ):  # a bounce of one of ours (E2)
                recorded += 1
            mailbox.last_uid = uid
            ReplyMailbox.objects.filter(pk=mailbox.pk).update(
                last_uid=uid, uid_validity=mailbox.uid_validity
            )
    except (OSError, imaplib.IMAP4.error, MailboxError) as exc:
        _failed(mailbox, f"reading {mailbox}: {exc}")
        raise MailboxError(mailbox.last_error) from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            connection.logout()
    mailbox.last_polled_at, mailbox.last_error = timezone.now(), ""
    ReplyMailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=mailbox.last_polled_at,
        last_error="",
        last_uid=mailbox.last_uid,
        uid_validity=mailbox.uid_validity,
    )
    return recorded


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_validity(connection: imaplib.IMAP4) -> int:
    _kind, data = connection.response("UIDVALIDITY")
    for item in data or []:
        if isinstance(item, bytes) and item.strip().isdigit():
            return int(item)
        match = _UIDVALIDITY.search(item or b"") if isinstance(item, bytes) else None
        if match:
            return int(match.group(1))
    return 0


def _fetch(connection: imaplib.IMAP4, uid: int) -> bytes | None:
    """The raw message with ``uid`` (without setting its \\Seen flag), or None if it is gone."""
    data = _checked(connection.uid("FETCH", str(uid), "(BODY.PEEK[])"))
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _failed(mailbox: ReplyMailbox, error: str) -> None:
    mailbox.last_error = error[:500]
    logger.warning("Reply mailbox %s: %s", mailbox.pk, mailbox.last_error)
    ReplyMailbox.objects.filter(pk=mailbox.pk).update(
        last_error=mailbox.last_error, last_polled_at=timezone.now()
    )


def mailboxes_poll() -> dict[int, int | str]:
    """Poll every active mailbox; return recorded replies (or the error) per mailbox id."""
    results: dict[int, int | str] = {}
    for mailbox in ReplyMailbox.objects.filter(is_active=True).select_related("account"):
        try:
            results[mailbox.pk] = mailbox_poll(mailbox=mailbox)
        except MailboxError as exc:
            results[mailbox.pk] = str(exc)
    return results
