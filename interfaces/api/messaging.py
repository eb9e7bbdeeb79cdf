"""Sending a message for an integration (POST /api/v1/messages/): the request resolved into
the one ``message_send`` path, made safe to retry by its ``Idempotency-Key``."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q

from channels_out.models import OutboundMessage
from channels_out.services import Step, message_send
from crm_messaging.phones import InvalidPhone, normalise_phone
from guests.models import Guest, Reservation
from guests.selectors import guest_by_external_id, reservation_by_external_id

from .models import ApiKey, IdempotentRequest


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was already used with a different request."""


@dataclass(frozen=True)
class Sent:
    message: OutboundMessage
    replayed: bool


def _external(value: str, field: str, finder: Any) -> Any:
    source, sep, external_id = value.partition(":")
    found = finder(source=source, external_id=external_id) if sep else None
    if found is None:
        raise ValidationError({field: f"Nothing is known as “{value}” (give source:external_id)."})
    return found


def _guest_of_address(to: str) -> Guest | None:
    """The one guest holding ``to`` (an e-mail, or a phone read in the hotel's region), so
    his consent and quiet hours apply; None when none or several do."""
    match = Q(email__iexact=to) if "@" in to else Q(pk__in=[])
    if "@" not in to:
        try:
            match = Q(phone=normalise_phone(to), phone_valid=True)
        except InvalidPhone:
            return None
    found = list(Guest.objects.filter(match)[:2])
    return found[0] if len(found) == 1 else None


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder).encode()
    ).hexdigest()


@transaction.atomic
def api_message_send(*, key: ApiKey, data: dict[str, Any], idempotency_key: str = "") -> Sent:
    """Queue one message as ``key``'s integration through ``message_send`` (consent, quiet
    hours, frequency cap, credits apply as to any message; one that may not go is logged as
    skipped with its reason).

    ``data``: ``channel`` or ``plan`` (channels in fallback order), ``guest`` and/or ``to``,
    ``reservation``, ``text`` (+ ``subject``) or ``template_id`` + ``template_variables``,
    ``purpose``, ``secrets`` (codes in the text: sent, but stored masked). With an
    ``idempotency_key`` the same key returns the message it first made (``replayed``); the
    same key with a different request raises IdempotencyMismatch. Raises ValidationError for
    a request that cannot be sent as written; nothing is written then.
    """
    fingerprint = _fingerprint(data)
    if idempotency_key:
        earlier = (
            IdempotentRequest.objects.select_related("message")
            .filter(api_key=key, key=idempotency_key)
            .first()
        )
        if earlier is not None:
            if earlier.fingerprint != fingerprint:
                raise IdempotencyMismatch
            return Sent(earlier.message, replayed=True)
    guest = _external(data["guest"], "guest", guest_by_external_id) if data.get("guest") else None
    reservation: Reservation | None = (
        _external(data["reservation"], "reservation", reservation_by_external_id)
        if data.get("reservation")
        else None
    )
    to = data.get("to", "")
    if guest is None and reservation is not None:
        guest = reservation.booker
    if guest is None and to:
        guest = _guest_of_address(to)
    channels = data.get("plan") or [data["channel"]]
    steps = [
        Step(
            channel=channel,
            text=data.get("text", ""),
            subject=data.get("subject", ""),
            template_id=data.get("template_id", ""),
            template_variables=data.get("template_variables") or {},
            to=to if index == 0 else "",
        )
        for index, channel in enumerate(channels)
    ]
    suffix = idempotency_key or uuid.uuid4().hex
    message = message_send(
        steps=steps,
        purpose=data.get("purpose", "service"),
        guest=guest,
        reservation=reservation,
        dedupe_key=f"api:{key.pk}:{suffix}",
        source="api",
        user=key.user,
        secrets=data.get("secrets") or (),
    )
    if idempotency_key:
        try:
            with transaction.atomic():
                IdempotentRequest.objects.create(
                    api_key=key, key=idempotency_key, fingerprint=fingerprint, message=message
                )
        except IntegrityError:
            # The same key raced in from a second request: both got the same message (its
            # dedupe key); the first one's record stands.
            return Sent(message, replayed=True)
    return Sent(message, replayed=False)
