"""Secrets in message bodies: stored masked, sent in full — the one rule, for every reader.

A message may carry secrets: a login code, the token of a sign-in, e-mail confirmation or
unsubscribe link. Every staff role reads the send log (stay history, sent messages, CSV, the
admin), so the log keeps each message with every secret replaced by ``MASK`` — ``Your code is
••••••`` — and every path that shows, exports or logs a body reads those stored fields and
nothing else. The caller names the secrets when it queues the message
(``message_send(secrets=…)``); headers whose value is a per-guest link
(``SECRET_HEADERS``: ``List-Unsubscribe``) are masked whole.

The full text is needed until the message has gone: the dispatcher hands it to the backend
(``unsealed``), a Viber message's SMS fallback and an operator's resend are built from it. It
is kept beside the masked fields, encrypted with ``FIELD_ENCRYPTION_KEY`` (``sealed``), and
wiped once the message can no longer be sent (``sealed_needed_no_more``).
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.db.models import Q
from django.utils import timezone

from .models import FINAL_STATUSES, SkipReason, Status

if TYPE_CHECKING:
    from .models import OutboundMessage

MASK = "••••••"
SECRET_HEADERS = frozenset({"list-unsubscribe"})
# What the send log keeps masked; the rest of a message (address, channel, parts) is no secret.
CONTENT_FIELDS = ("subject", "body", "html_body", "headers", "template_variables", "fallback_plan")
MIN_SECRET_LENGTH = 4


def secret_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every way a secret may be written in a message (as is, URL-quoted, HTML-escaped), longest first.

    Raises ValueError for a secret shorter than ``MIN_SECRET_LENGTH``: masking it would mask
    ordinary words.
    """
    forms: set[str] = set()
    for secret in secrets:
        secret = str(secret)
        if not secret:
            continue
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError("A secret of fewer than 4 characters cannot be masked safely.")
        forms.update({secret, quote(secret, safe=""), html.escape(secret)})
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every secret in it replaced by ``MASK``."""
    return _mask(text, secret_forms(secrets))


def _mask(value: Any, forms: Sequence[str]) -> Any:
    if isinstance(value, str):
        for form in forms:
            value = value.replace(form, MASK)
        return value
    if isinstance(value, dict):
        return {key: _mask(item, forms) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item, forms) for item in value]
    return value


def seal(message: OutboundMessage, secrets: Iterable[str]) -> None:
    """Mask ``secrets`` (and secret headers) in the unsaved ``message``, keeping the full text sealed.

    A message with nothing secret in it is left as it is, with nothing sealed.
    """
    listed = [str(s) for s in secrets if s]
    forms = secret_forms(listed)
    full = {name: getattr(message, name) for name in CONTENT_FIELDS}
    masked = {name: _mask(value, forms) for name, value in full.items()}
    masked["headers"] = {
        name: MASK if name.lower() in SECRET_HEADERS else value
        for name, value in (masked["headers"] or {}).items()
    }
    if masked == full:
        return
    message.sealed = json.dumps({"content": full, "secrets": listed})
    for name, value in masked.items():
        setattr(message, name, value)


def unsealed(message: OutboundMessage) -> OutboundMessage:
    """Return ``message`` as it is to be sent: an unsaved copy with the full text, or itself.

    Only what sends reads this (the dispatcher, a fallback, a resend); the copy is never saved.
    """
    if not message.sealed:
        return message
    full = copy.copy(message)
    for name, value in json.loads(message.sealed)["content"].items():
        setattr(full, name, value)
    return full


def sealed_secrets(message: OutboundMessage) -> list[str]:
    """The secrets ``message`` was queued with (for the messages derived from it)."""
    return list(json.loads(message.sealed)["secrets"]) if message.sealed else []


def sealed_needed_no_more() -> Q:
    """Messages whose full text can go: they will never be sent, resent or fall back again.

    A final status ends it — except a message skipped for lack of credits, which goes after
    the next top-up unless it has expired; a message accepted by the provider ends it too
    when no fallback step may follow. An unknown outcome keeps it for an operator's resend.
    """
    waits_for_credits = Q(status=Status.SKIPPED, skip_reason=SkipReason.NO_CREDITS) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    return (Q(status__in=FINAL_STATUSES) & ~waits_for_credits) | Q(
        status=Status.SENT, fallback_plan=[]
    )
