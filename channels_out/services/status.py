"""Status changes of logged messages (S5, R2, R3): forward only, with their credit and fallback effects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm_messaging.actors import Actor, acting_user

from ..backends import backend_class
from ..ledger import InsufficientCredits, credits_post, credits_release, credits_reserve
from ..models import OutboundMessage, SkipReason, Status, statuses_below
from .messages import _record, dispatch_on_commit, message_fall_back, message_submit_copy

ACCEPTED_STATUSES = frozenset({Status.SENT, Status.DELIVERED, Status.UNDELIVERED})
FAILED_STATUSES = frozenset({Status.FAILED, Status.UNDELIVERED})


@transaction.atomic
def message_apply_status(
    message: OutboundMessage,
    status: str,
    *,
    source: str,
    provider_message_id: str = "",
    provider_status: str = "",
    code: str = "",
    description: str = "",
    payload: dict[str, Any] | None = None,
    by: Actor = None,
    at: dt.datetime | None = None,
) -> bool:
    """Move ``message`` to ``status`` if that is forward; record the event either way.

    A status only replaces one of lower rank (a late "sent" never overwrites "delivered";
    the same receipt twice changes nothing). When the move happens: an accepted message has
    its credits debited once (on delivery for backends whose provider charges only then,
    i.e. Viber); a failed one has them released (unless already debited); a failed or
    undelivered message with a fallback plan queues its next step once.
    Returns whether the status changed.
    """
    now = at or timezone.now()
    fields: dict[str, Any] = {"status": status, "updated_at": now}
    if provider_message_id:
        fields["provider_message_id"] = provider_message_id
    if code:
        fields["provider_code"] = code[:40]
    if description:
        fields["reason"] = description[:255]
    if status == Status.SENT:
        fields["sent_at"] = now
    elif status in ACCEPTED_STATUSES:
        # A receipt may overtake our own "sent": then it went out by now at the latest.
        fields["sent_at"] = Coalesce(F("sent_at"), Value(now))
    if status == Status.DELIVERED:
        fields["delivered_at"] = now
    if status in (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.SKIPPED):
        fields["finished_at"] = now
    rows = OutboundMessage.objects.filter(pk=message.pk)
    below = statuses_below(status)
    first_acceptance = False
    if status in ACCEPTED_STATUSES:
        # The first move into an accepted status is the one that debits: the conditional
        # update says whether it is this one (a receipt after our "sent" needs no ledger work).
        unaccepted = [s for s in below if s not in ACCEPTED_STATUSES]
        first_acceptance = bool(rows.filter(status__in=unaccepted).update(**fields))
        below = [s for s in below if s in ACCEPTED_STATUSES]
    changed = first_acceptance or bool(rows.filter(status__in=below).update(**fields))
    _record(
        message,
        status,
        source=source,
        description=description,
        code=code,
        provider_status=provider_status,
        payload=payload,
        applied=changed,
        by=acting_user(by),
    )
    if not changed:
        return False
    # What follows reads only what was just written and what never changes once a message
    # is queued (channel, backend, credits, its plan), so the row is not read back.
    if isinstance(fields.get("sent_at"), Coalesce):
        fields["sent_at"] = message.sent_at or now
    for name, value in fields.items():
        setattr(message, name, value)
    pay_on_delivery = message.channel in backend_class(message.backend).debit_on_delivery
    if pay_on_delivery:
        debit = status == Status.DELIVERED or (status in ACCEPTED_STATUSES and source == "operator")
    else:
        debit = first_acceptance
    if debit:
        credits_post(message)
    if status == Status.FAILED or (status == Status.UNDELIVERED and pay_on_delivery):
        credits_release(message)
    if status in FAILED_STATUSES:
        message_fall_back(message, reason=description or status)
    return True


@transaction.atomic
def message_mark_sent(*, message: OutboundMessage, user: Actor, note: str = "") -> OutboundMessage:
    """Operator decision on an unknown outcome: it went out. Debits its credits. ValidationError otherwise."""
    message.refresh_from_db()
    if message.status != Status.UNKNOWN:
        raise ValidationError(f"Only a message with an unknown outcome can be marked sent; this one is {message.get_status_display().lower()}.")
    message_apply_status(message, Status.SENT, source="operator", description=note or "marked sent by an operator", by=user)
    message.refresh_from_db()
    return message


@transaction.atomic
def message_resend(*, message: OutboundMessage, user: Actor, note: str = "") -> OutboundMessage:
    """Operator decision on an unknown outcome: it did not go out; send it again as a new attempt.

    The original is marked failed (its credits released) and a copy is queued with the
    dedupe key ``<key>|resend`` and a link to it, so a double click resends once.
    Raises ValidationError unless the outcome is unknown.
    """
    message.refresh_from_db()
    if message.status != Status.UNKNOWN:
        raise ValidationError(f"Only a message with an unknown outcome can be resent; this one is {message.get_status_display().lower()}.")
    message_apply_status(
        message, Status.FAILED, source="operator", description=note or "not sent (operator); resent", by=user
    )
    copy = OutboundMessage.objects.filter(resend_of=message).first()
    if copy is not None:
        return copy
    copy = OutboundMessage.objects.get(pk=message.pk)
    copy.pk = None
    copy._state.adding = True
    copy.dedupe_key = f"{message.dedupe_key}|resend"
    copy.resend_of = message
    copy.status, copy.reason, copy.skip_reason, copy.provider_code, copy.provider_message_id = Status.QUEUED, "", "", "", ""
    copy.attempts, copy.credits = 0, 0
    copy.claimed_at = copy.sent_at = copy.delivered_at = copy.finished_at = None
    copy.created_at = timezone.now()
    copy.source = "resend"
    copy.sent_by = acting_user(user)
    return message_submit_copy(copy)


def messages_resume_after_topup(*, limit: int = 10_000) -> int:
    """Queue again, oldest first, the messages skipped for lack of credits while credits last (K5).

    Each one moves skipped → queued under its own unique key and reserves its credits in
    one transaction, so nothing is queued twice and nothing beyond the balance is queued.
    Messages past their expiry stay skipped. Returns how many were queued.
    """
    now = timezone.now()
    candidates = (
        OutboundMessage.objects.filter(status=Status.SKIPPED, skip_reason=SkipReason.NO_CREDITS)
        .exclude(expires_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for pk in list(candidates):
        try:
            with transaction.atomic():
                # The one backward move, and only this one: a hold for credits is lifted.
                if not OutboundMessage.objects.filter(
                    pk=pk, status=Status.SKIPPED, skip_reason=SkipReason.NO_CREDITS
                ).update(status=Status.QUEUED, skip_reason="", reason="", finished_at=None, updated_at=now):
                    continue
                message = OutboundMessage.objects.get(pk=pk)
                credits_reserve(message)
                _record(message, Status.QUEUED, source="top-up", description="credits available again")
                dispatch_on_commit(message)
        except InsufficientCredits:
            break
        queued += 1
    return queued
