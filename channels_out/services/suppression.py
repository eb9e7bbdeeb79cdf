"""Suppressed e-mail addresses (E2): hard bounces, soft-bounce runs, clearing.

A suppressed address gets no e-mail: the sender's checks (``policy.suppression_skips``) log
every later message to it as skipped "address suppressed" — so estimates and forecasts count
it too — until staff clear it (``suppression_clear``) or the guest confirms the address in
the portal (``suppressions_clear_confirmed``). At most one suppression per address is in
force (a partial unique index); a cleared one stays as history.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from crm_messaging.actors import Actor, acting_user, record_staff_action
from guests.contacts import normalise_email

from ..models import (
    MessagingPolicy,
    OutboundMessage,
    SoftBounceRun,
    Suppression,
    SuppressionCleared,
    SuppressionReason,
)


def _address(value: str) -> str:
    """Addresses are compared without case (mailbox names are in practice)."""
    try:
        return normalise_email(value).lower()
    except ValidationError:
        return value.strip().lower()


def suppression_add(
    *,
    address: str,
    reason: str,
    provider_code: str = "",
    description: str = "",
    message: OutboundMessage | None = None,
) -> Suppression:
    """Suppress ``address`` (once: a suppression in force is returned as it is)."""
    address = _address(address)
    existing = Suppression.objects.filter(address=address, cleared_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Suppression.objects.create(
                address=address,
                reason=reason,
                provider_code=provider_code[:40],
                description=description[:500],
                message=message,
            )
    except IntegrityError:  # suppressed by a concurrent receipt a moment ago
        return Suppression.objects.get(address=address, cleared_at__isnull=True)


@transaction.atomic
def soft_bounce_record(*, message: OutboundMessage, code: str = "", description: str = "") -> int:
    """Count a soft bounce of ``message`` (once per message) towards its address's run; suppress
    the address when the run reaches the house's limit. Returns the run's length."""
    address = _address(message.to)
    run, _ = SoftBounceRun.objects.select_for_update().get_or_create(address=address)
    if run.last_message_id == message.pk:
        return run.count
    run.count += 1
    run.last_message_id = message.pk
    run.save(update_fields=["count", "last_message_id", "updated_at"])
    limit = MessagingPolicy.load().soft_bounce_limit
    if run.count >= limit:
        suppression_add(
            address=address,
            reason=SuppressionReason.SOFT_BOUNCES,
            provider_code=code,
            description=description or f"{run.count} soft bounces in a row",
            message=message,
        )
    return run.count


def soft_bounces_reset(*, address: str) -> None:
    """An e-mail reached ``address``: its soft-bounce run starts again."""
    SoftBounceRun.objects.filter(address=_address(address)).exclude(count=0).update(
        count=0, last_message_id=None, updated_at=timezone.now()
    )


@transaction.atomic
def suppression_clear(*, suppression: Suppression, user: Actor, reason: str = "") -> Suppression:
    """Staff lift a suppression: e-mail goes to the address again. The run of soft bounces
    starts again, and the staff action is kept in the suppression's history.

    Raises ValidationError when it was cleared already.
    """
    locked = Suppression.objects.select_for_update().get(pk=suppression.pk)
    if locked.cleared_at is not None:
        raise ValidationError(gettext("This address is no longer suppressed."))
    locked.cleared_at = timezone.now()
    locked.cleared_by = acting_user(user)
    locked.cleared_via = SuppressionCleared.STAFF
    locked.clear_reason = reason.strip()[:255]
    locked.save(update_fields=["cleared_at", "cleared_by", "cleared_via", "clear_reason"])
    soft_bounces_reset(address=locked.address)
    record_staff_action(user, locked, f"Cleared the suppression of {locked.address}.")
    return locked


@transaction.atomic
def suppressions_clear_confirmed(*, address: str) -> int:
    """The guest proved in the portal that ``address`` receives mail: lift its suppression.
    Returns how many were lifted (0 or 1)."""
    address = _address(address)
    lifted = Suppression.objects.filter(address=address, cleared_at__isnull=True).update(
        cleared_at=timezone.now(), cleared_via=SuppressionCleared.PORTAL
    )
    soft_bounces_reset(address=address)
    return lifted
