"""Messages waiting for the guest's quiet hours (S9): re-timed when the hours change, or sent now by staff.

A message due inside the quiet window of its purpose is queued with ``not_before`` at the
window's end and ``hold = quiet_hours``. When a manager changes the quiet hours, every waiting
message is timed again against the new window (``messages_retime_quiet_hours``): one now
outside it goes at once, one still inside waits for the new end. An operator may decide a
waiting message should go now (``message_send_now``); that decision is kept on the message,
in its events and in the staff action log, and the dispatcher then lets it through.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from crm_messaging.actors import Actor, acting_user, record_staff_action
from crm_messaging.i18n import Phrase, lower_label

from .. import policy
from ..models import Hold, MessagingPolicy, OutboundMessage, Status
from .messages import delivery_event_record, messages_dispatch_on_commit


@transaction.atomic
def messages_retime_quiet_hours(*, house: MessagingPolicy | None = None) -> int:
    """Time every message waiting for quiet hours again under the current policy; return how many changed.

    A message the new hours no longer hold is handed to the workers at once (after commit);
    one they hold longer or shorter waits for the new end. Each change is an event of the message.
    """
    house = house or MessagingPolicy.load()
    now = timezone.now()
    waiting = list(
        OutboundMessage.objects.select_for_update(of=("self",))
        .filter(status=Status.QUEUED, hold=Hold.QUIET_HOURS, not_before__gt=now)
        .select_related("guest")
        .order_by("pk")
    )
    changed: list[OutboundMessage] = []
    for message in waiting:
        until = policy.message_quiet_until(message, policy=house, at=now)
        if until == message.not_before:
            continue
        message.not_before, message.updated_at = until, now
        message.hold = Hold.QUIET_HOURS if until is not None else Hold.NONE
        changed.append(message)
        delivery_event_record(
            message,
            Status.QUEUED,
            source="policy",
            applied=False,
            description=(
                Phrase(
                    gettext_noop("quiet hours changed: waits until %(time)s UTC"),
                    {"time": f"{until:%Y-%m-%d %H:%M}"},
                )
                if until is not None
                else Phrase(gettext_noop("quiet hours changed: goes now"))
            ),
        )
    OutboundMessage.objects.bulk_update(changed, ["not_before", "hold", "updated_at"])
    messages_dispatch_on_commit([m for m in changed if m.not_before is None])
    return len(changed)


@transaction.atomic
def message_send_now(*, message: OutboundMessage, user: Actor, note: str = "") -> OutboundMessage:
    """Send a message waiting for the guest's quiet hours now, as staff decided.

    Locks the row and re-checks it: only a queued message that still waits for quiet hours
    can be sent now (ValidationError otherwise, naming what it is). The decision is an event
    of the message and a staff action; the dispatcher no longer holds it for quiet hours.
    """
    locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
    now = timezone.now()
    waiting = (
        locked.status == Status.QUEUED
        and locked.hold == Hold.QUIET_HOURS
        and locked.not_before is not None
        and locked.not_before > now
    )
    if not waiting:
        raise ValidationError(
            gettext("This message is not waiting for quiet hours; it is %(status)s.")
            % {"status": lower_label(locked.get_status_display())}
        )
    locked.not_before, locked.hold = None, Hold.SENT_NOW
    locked.save(update_fields=["not_before", "hold", "updated_at"])
    delivery_event_record(
        locked,
        Status.QUEUED,
        source="operator",
        applied=False,
        description=note
        or Phrase(gettext_noop("sent now by staff, despite the guest's quiet hours")),
        by=acting_user(user),
    )
    record_staff_action(user, locked, "Sent now, despite the guest's quiet hours.")
    messages_dispatch_on_commit([locked])
    return locked


__all__ = ["message_send_now", "messages_retime_quiet_hours"]
