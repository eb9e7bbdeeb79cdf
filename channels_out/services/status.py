"""Status changes of logged messages (S5, R2, R3): forward only, with their credit and fallback effects."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from crm_messaging.actors import Actor, acting_user, record_staff_action
from crm_messaging.i18n import Phrase, lower_label
from guests.selectors import guests_hold

from ..backends import backend_class
from ..ledger import InsufficientCredits, credits_post_many, credits_release, credits_reserve
from ..models import FINAL_STATUSES, STATUS_RANK, DeliveryEvent, OutboundMessage, SkipReason, Status
from ..signals import message_status_changed
from .messages import (
    delivery_event,
    delivery_event_record,
    dispatch_on_commit,
    message_fall_back,
    message_submit_copy,
    messages_wipe_sealed,
)

logger = logging.getLogger(__name__)

ACCEPTED_STATUSES = frozenset({Status.SENT, Status.DELIVERED, Status.UNDELIVERED})
FAILED_STATUSES = frozenset({Status.FAILED, Status.UNDELIVERED})


@dataclass(frozen=True)
class StatusChange:
    """What became of one message: the provider's answer, a receipt, the sweeper's or an operator's finding."""

    message: OutboundMessage
    status: str
    provider_message_id: str = ""
    provider_status: str = ""
    code: str = ""
    description: Phrase | str = ""  # ours a Phrase, a provider's words a str
    payload: dict[str, Any] | None = None


def message_apply_status(
    message: OutboundMessage,
    status: str,
    *,
    source: str,
    provider_message_id: str = "",
    provider_status: str = "",
    code: str = "",
    description: Phrase | str = "",
    payload: dict[str, Any] | None = None,
    by: Actor = None,
    at: dt.datetime | None = None,
) -> bool:
    """Move ``message`` to ``status`` if that is forward; record the event either way (see message_apply_statuses)."""
    change = StatusChange(
        message,
        status,
        provider_message_id=provider_message_id,
        provider_status=provider_status,
        code=code,
        description=description,
        payload=payload,
    )
    return message_apply_statuses([change], source=source, by=by, at=at)[0]


@transaction.atomic
def message_apply_statuses(
    changes: Sequence[StatusChange], *, source: str, by: Actor = None, at: dt.datetime | None = None
) -> list[bool]:
    """Apply status changes (one per message) in one transaction; return, for each, whether it moved.

    A status we do not know (a provider's new word: ``StatusUpdate.status`` "") is kept as an
    event and logged, and moves nothing. A status only replaces one of lower rank (a late "sent" never overwrites "delivered";
    the same receipt twice changes nothing): the rows are locked and their status read
    first, so concurrent reports of one message are applied one after the other. Every
    report is kept as an event, applied or not. When a message moves: an accepted message
    has its credits debited once (on delivery for backends whose provider charges only
    then, i.e. Viber); a failed one has them released (unless already debited); a failed
    or undelivered message with a fallback plan queues its next step once.

    A delivery batch's outcomes cost a handful of queries together, not a handful each.
    """
    pks = [change.message.pk for change in changes]
    if len(set(pks)) != len(pks):
        raise ValueError("At most one status change per message in one call.")
    now = at or timezone.now()
    user = acting_user(by)
    # The guests' rows first (FOR KEY SHARE), then the messages': a merge's order (it locks the
    # guests, then moves their messages), so a fallback or an attribution written here for
    # the guest never waits for a merge that waits for this transaction.
    guests_hold(
        OutboundMessage.objects.filter(pk__in=pks, guest__isnull=False).values_list(
            "guest_id", flat=True
        )
    )
    current = {
        pk: (status, sent_at)
        # NO KEY: rows pointing at a message (its booking attribution) may still be written
        # while it is locked; their foreign-key check must not wait for this transaction.
        for pk, status, sent_at in OutboundMessage.objects.select_for_update(no_key=True)
        .filter(pk__in=pks)
        .order_by("pk")
        .values_list("pk", "status", "sent_at")
    }
    moved: list[bool] = []
    events: list[DeliveryEvent] = []
    updates: dict[tuple[str, ...], list[OutboundMessage]] = defaultdict(list)
    debits: list[OutboundMessage] = []
    releases: list[OutboundMessage] = []
    fallbacks: list[tuple[OutboundMessage, Phrase | str]] = []
    moves: list[tuple[OutboundMessage, str]] = []
    for change in changes:
        message, status = change.message, change.status
        if message.pk not in current:  # deleted meanwhile: nothing to move, nothing to record
            moved.append(False)
            continue
        was, sent_at = current[message.pk]
        known = status in STATUS_RANK
        if not known:
            # A word of the provider's we do not know: kept as an event, changes nothing.
            logger.warning(
                "Message %s: unknown status %r (provider status %r) from %s; kept, not applied",
                message.pk,
                status,
                change.provider_status,
                source,
            )
        forward = known and STATUS_RANK[status] > STATUS_RANK[was]
        moved.append(forward)
        events.append(
            delivery_event(
                message,
                status if known else was,
                source=source,
                description=change.description
                or (
                    ""
                    if known
                    else Phrase(
                        gettext_noop("unknown status “%(status)s”"),
                        {"status": change.provider_status or status},
                    )
                ),
                code=change.code,
                provider_status=change.provider_status,
                payload=change.payload,
                applied=forward,
                by=user,
            )
        )
        if not forward:
            continue
        fields: dict[str, Any] = {"status": status, "updated_at": now}
        if change.provider_message_id:
            fields["provider_message_id"] = change.provider_message_id
        if change.code:
            fields["provider_code"] = change.code[:40]
        if change.description:
            # The message's reason as its event tells it: English, and ours in no language.
            said = change.description
            fields["reason"] = (said.english() if isinstance(said, Phrase) else said)[:255]
            fields["detail"] = said.as_json() if isinstance(said, Phrase) else {}
        if status == Status.SENT:
            fields["sent_at"] = now
        elif status in ACCEPTED_STATUSES:
            fields["sent_at"] = (
                sent_at or now
            )  # a receipt overtook our own "sent": it went out by now
        if status == Status.DELIVERED:
            fields["delivered_at"] = now
        if status in FINAL_STATUSES:
            fields["finished_at"] = now
        for name, value in fields.items():
            setattr(message, name, value)
        updates[tuple(fields)].append(message)
        moves.append((message, was))
        # The first move into an accepted status is the one that debits.
        first_acceptance = status in ACCEPTED_STATUSES and was not in ACCEPTED_STATUSES
        pay_on_delivery = message.channel in backend_class(message.backend).debit_on_delivery
        if pay_on_delivery:
            debit = status == Status.DELIVERED or (
                status in ACCEPTED_STATUSES and source == "operator"
            )
        else:
            debit = first_acceptance
        if debit:
            debits.append(message)
        if status == Status.FAILED or (status == Status.UNDELIVERED and pay_on_delivery):
            releases.append(message)
        if status in FAILED_STATUSES:
            fallbacks.append((message, change.description or status))
    for names, messages in updates.items():
        _update_rows(messages, names)
    DeliveryEvent.objects.bulk_create(events)
    credits_post_many(debits)
    for message in releases:
        credits_release(message)
    for message, reason in fallbacks:
        message_fall_back(message, reason=reason)
    messages_wipe_sealed([m for batch in updates.values() for m in batch])
    if moves:
        message_status_changed.send(sender=OutboundMessage, changes=moves)
    return moved


_FIELDS = {field.name: field for field in OutboundMessage._meta.concrete_fields}


def _update_rows(messages: list[OutboundMessage], names: Sequence[str]) -> None:
    """Write ``names`` of ``messages`` in one UPDATE: a value all share is set as is, one that differs by row
    (e.g. the provider's id) through a CASE — cheaper than ``bulk_update``, which cases every field."""
    values: dict[str, Any] = {}
    for name in names:
        # A JSON value (the detail) is compared by its text: a dict cannot go in a set.
        distinct = {json.dumps(getattr(m, name), sort_keys=True, default=str) for m in messages}
        if len(distinct) == 1:
            values[name] = getattr(messages[0], name)
        else:
            output = _FIELDS[name]
            values[name] = Case(
                *(
                    When(pk=m.pk, then=Value(getattr(m, name), output_field=output))
                    for m in messages
                ),
                output_field=output,
            )
    OutboundMessage.objects.filter(pk__in=[m.pk for m in messages]).update(**values)


def _undecided(message: OutboundMessage, *, refusal: str) -> OutboundMessage:
    """Lock ``message``'s row and return it while its outcome is still unknown.

    Two operators deciding at once wait for each other here: the second one reads what the
    first decided and is refused with who did what (ValidationError), so a message is never
    both marked sent and resent. ``refusal`` (with ``%(status)s``) explains other statuses.
    """
    guests_hold([message.guest_id] if message.guest_id else [])  # as message_apply_statuses
    locked = OutboundMessage.objects.select_for_update(no_key=True).get(pk=message.pk)
    if locked.status == Status.UNKNOWN:
        return locked
    decision = (
        DeliveryEvent.objects.filter(message=locked, source="operator", applied=True)
        .select_related("by")
        .order_by("-at", "-pk")
        .first()
    )
    if decision is None:
        raise ValidationError(refusal % {"status": lower_label(locked.get_status_display())})
    who = (decision.by.get_full_name() or decision.by.get_username()) if decision.by else ""
    values = {
        "user": who or gettext("Another operator"),
        "time": timezone.localtime(decision.at).strftime("%H:%M"),
    }
    copy = OutboundMessage.objects.filter(resend_of=locked).only("pk").first()
    if copy is not None:
        raise ValidationError(
            gettext("%(user)s already resent it as #%(copy)s at %(time)s; nothing was changed.")
            % {**values, "copy": copy.pk}
        )
    raise ValidationError(
        gettext("%(user)s already marked it sent at %(time)s; nothing was changed.") % values
    )


@transaction.atomic
def message_mark_sent(*, message: OutboundMessage, user: Actor, note: str = "") -> OutboundMessage:
    """Operator decision on an unknown outcome: it went out. Debits its credits; the decision is
    a delivery event and a staff action in the message's history.

    Raises ValidationError unless the outcome is still unknown — also when another operator
    decided it a moment earlier (the row is locked while deciding; see ``_undecided``).
    """
    locked = _undecided(
        message,
        refusal=gettext(
            "Only a message with an unknown outcome can be marked sent; this one is %(status)s."
        ),
    )
    message_apply_status(
        locked,
        Status.SENT,
        source="operator",
        description=note or Phrase(gettext_noop("marked sent by an operator")),
        by=user,
    )
    record_staff_action(user, locked, "Marked sent: the unknown outcome went out.")
    message.refresh_from_db()
    return message


@transaction.atomic
def message_resend(*, message: OutboundMessage, user: Actor, note: str = "") -> OutboundMessage:
    """Operator decision on an unknown outcome: it did not go out; send it again as a new attempt.

    The original is marked failed (its credits released) and a copy is queued with the
    dedupe key ``<key>|resend`` and a link to it, so a double click resends once; the decision
    is a delivery event and a staff action in the message's history.
    Raises ValidationError unless the outcome is still unknown — also when another operator
    decided it a moment earlier (see ``_undecided``).
    """
    locked = _undecided(
        message,
        refusal=gettext(
            "Only a message with an unknown outcome can be resent; this one is %(status)s."
        ),
    )
    # Read before the original fails: failing wipes its full text, which the copy sends.
    copy = OutboundMessage.objects.get(pk=locked.pk)
    message_apply_status(
        locked,
        Status.FAILED,
        source="operator",
        description=note or Phrase(gettext_noop("not sent (operator); resent")),
        by=user,
    )
    message.refresh_from_db()
    copy.pk = None
    copy._state.adding = True
    copy.dedupe_key = f"{message.dedupe_key}|resend"
    copy.resend_of = message
    copy.status, copy.reason, copy.skip_reason, copy.provider_code, copy.provider_message_id = (
        Status.QUEUED,
        "",
        "",
        "",
        "",
    )
    copy.detail = {}
    copy.attempts, copy.credits = 0, 0
    copy.claimed_at = copy.sent_at = copy.delivered_at = copy.finished_at = None
    copy.created_at = timezone.now()
    copy.source = "resend"
    copy.sent_by = acting_user(user)
    copy = message_submit_copy(copy)
    record_staff_action(
        user, message, f"Resent: the unknown outcome did not go out; copy #{copy.pk}."
    )
    return copy


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
                ).update(
                    status=Status.QUEUED,
                    skip_reason="",
                    reason="",
                    detail={},
                    finished_at=None,
                    updated_at=now,
                ):
                    continue
                message = OutboundMessage.objects.get(pk=pk)
                credits_reserve(message)
                delivery_event_record(
                    message,
                    Status.QUEUED,
                    source="top-up",
                    description=Phrase(gettext_noop("credits available again")),
                )
                dispatch_on_commit(message)
        except InsufficientCredits:
            break
        queued += 1
    return queued
