"""Duplicate merge (G5): one person, one profile, with everything that pointed at either; a
confirmed contact detail that names a known profile merges into it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext

from crm_messaging.actors import Actor, acting_user

from .. import signals
from ..contacts import is_ota_relay_email
from ..models import Guest, GuestMerge, ReservationCompanion
from ..selectors import guest_find_existing
from .guests import _contact_values, guest_recount_stays

# Profile fields the survivor takes from the duplicate when its own are empty.
_FILL_IF_EMPTY = (
    "last_name",
    "email",
    "phone",
    "nationality",
    "birth_date",
    "gender",
    "loyalty_tier",
    "loyalty_number",
)
# Free-text fields whose contents are kept from both profiles.
_CONCATENATE = ("notes", "preferences", "allergens", "warning_note")


def _snapshot(guest: Guest) -> dict[str, Any]:
    data = model_to_dict(guest)
    data.update(
        id=guest.pk,
        full_name=guest.full_name,
        stay_count=guest.stay_count,
        created_at=guest.created_at,
        phone_valid=guest.phone_valid,
        email_verified=guest.email_verified,
    )
    # Through DjangoJSONEncoder and back, so dates and decimals are stored as text.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, default=str))


def _take_profile(target: Guest, source: Guest) -> None:
    for field in _FILL_IF_EMPTY:
        if not getattr(target, field) and getattr(source, field):
            setattr(target, field, getattr(source, field))
            if field == "email":
                target.email_verified = source.email_verified
            if field == "phone":
                target.phone_valid = source.phone_valid
    if source.email and source.email.lower() == target.email.lower() and source.email_verified:
        target.email_verified = True
    for field in _CONCATENATE:
        mine, theirs = getattr(target, field).strip(), getattr(source, field).strip()
        if theirs and theirs not in mine:
            setattr(target, field, f"{mine}\n{theirs}".strip())
    target.vip_level = max(target.vip_level, source.vip_level)
    if (
        source.loyalty_tier
        and target.loyalty_tier
        and source.loyalty_tier.rank > target.loyalty_tier.rank
    ):
        target.loyalty_tier = source.loyalty_tier
    target.outstanding_balance = (target.outstanding_balance or Decimal(0)) + (
        source.outstanding_balance or Decimal(0)
    )
    if source.created_at < target.created_at:
        target.created_at = source.created_at


@transaction.atomic
def guest_merge(
    *, source: Guest, target: Guest, user: Actor = None, reason: str = ""
) -> GuestMerge:
    """Merge the duplicate ``source`` into ``target`` and delete ``source``.

    Every row pointing at ``source`` — reservations, companion places, facility bookings,
    consent records, greylist entries, and anything later apps add (messages) — moves to
    ``target``; empty profile fields are filled from ``source``; the stay count is
    recomputed; a GuestMerge row keeps a snapshot of the removed profile and what moved.
    Raises ValidationError when merging a guest into himself.
    """
    if source.pk == target.pk:
        raise ValidationError(gettext("A guest cannot be merged into himself."))
    # Lock both in id order so two merges of the same pair cannot deadlock.
    locked = {
        g.pk: g
        for g in Guest.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ValidationError(gettext("One of the two guests no longer exists."))
    source, target = locked[source.pk], locked[target.pk]
    snapshot = _snapshot(source)

    # The same person cannot be a companion twice on one stay, nor a companion on his own booking.
    ReservationCompanion.objects.filter(
        guest=source, reservation__companion_links__guest=target
    ).delete()
    ReservationCompanion.objects.filter(guest=source, reservation__booker=target).delete()
    ReservationCompanion.objects.filter(guest=target, reservation__booker=source).delete()

    signals.guests_merging.send(sender=Guest, source=source, target=target, user=user)
    moved: dict[str, int] = {}
    for relation in Guest._meta.related_objects:
        if relation.many_to_many or relation.related_model is GuestMerge:
            continue
        field = relation.field.name
        count = relation.related_model._base_manager.filter(**{field: source}).update(
            **{field: target}
        )
        if count:
            moved[relation.related_model._meta.label_lower] = count
    GuestMerge.objects.filter(target=source).update(target=target)

    _take_profile(target, source)
    source.delete()
    target.save()
    guest_recount_stays(target)
    merge = GuestMerge.objects.create(
        target=target,
        source_guest_id=snapshot["id"],
        source_snapshot=snapshot,
        moved=moved,
        reason=reason[:255],
        merged_by=acting_user(user),
    )
    signals.guests_merged.send(sender=Guest, target=target, merge=merge, user=user)
    return merge


@transaction.atomic
def guest_confirm_contact(
    *,
    guest: Guest,
    email: str | None = None,
    phone: str | None = None,
    user: Actor = None,
    merge_known: bool = True,
) -> Guest:
    """Record a contact detail the guest has proved is his, and link him to his known profile.

    A confirmed e-mail becomes verified (a relay address never does: ValidationError). When
    another profile already holds the same verified e-mail or valid phone, this profile (e.g.
    one created from an OTA booking) is merged into it and the surviving profile is returned
    — unless ``merge_known`` is off (a guest's own confirmation in the portal: whoever holds
    a mailbox is not thereby the other profile's owner), when both keep the detail and staff
    see them as duplicates.
    """
    contact = _contact_values(email=email, phone=phone, strict_phone=True)
    if contact.get("email") and is_ota_relay_email(contact["email"]):
        raise ValidationError(
            {"email": "This is a booking portal's relay address; give your own e-mail address."}
        )
    existing = guest_find_existing(email=contact.get("email", ""), phone=contact.get("phone", ""))
    if merge_known and existing is not None and existing.pk != guest.pk:
        guest_merge(
            source=guest,
            target=existing,
            user=user,
            reason="guest confirmed a known contact detail",
        )
        guest = Guest.objects.get(pk=existing.pk)  # as the merge left it, not as loaded before
    for field, value in contact.items():
        setattr(guest, field, value)
    if contact.get("email"):
        guest.email_verified = True
    guest.save()
    return guest
