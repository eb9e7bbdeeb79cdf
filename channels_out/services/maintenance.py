"""Housekeeping of the sender layer: old delivery events, and re-encrypting stored secrets."""

from __future__ import annotations

import datetime as dt
import logging

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from ..crypto import EncryptedTextField
from ..models import DeliveryEvent

logger = logging.getLogger(__name__)

PURGE_BATCH = 5_000


def delivery_events_purge(*, older_than: dt.timedelta) -> int:
    """Delete delivery events older than ``older_than`` (a batch per transaction); return how many.

    A message keeps its status, cost and provider id; only the history of receipts and
    answers behind it goes. Raises ValueError for a retention shorter than a day (the
    sweeper and the operators still need recent events).
    """
    if older_than < dt.timedelta(days=1):
        raise ValueError("delivery events are kept at least one day")
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                DeliveryEvent.objects.filter(at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:PURGE_BATCH]
            )
            if not batch:
                break
            deleted += DeliveryEvent.objects.filter(pk__in=batch).delete()[0]
    if deleted:
        logger.info("Deleted %d delivery events older than %s", deleted, cutoff.isoformat())
    return deleted


@transaction.atomic
def secrets_reencrypt() -> dict[str, int]:
    """Write every stored secret again under the first key of FIELD_ENCRYPTION_KEY.

    Afterwards the other keys can be removed from the setting. Returns how many rows were
    rewritten per model. Raises ImproperlyConfigured — and changes nothing — when a
    stored secret opens with none of the keys in force.
    """
    rewritten: dict[str, int] = {}
    for model in apps.get_models():
        fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField)
        ]
        if not fields:
            continue
        rows = model._default_manager.select_for_update().order_by("pk")
        count = 0
        # Reading decrypts with any key in force; writing encrypts with the first.
        for pk, *secrets in rows.values_list("pk", *fields):
            model._default_manager.filter(pk=pk).update(**dict(zip(fields, secrets, strict=True)))
            count += 1
        rewritten[model._meta.label] = count
    logger.info("Re-encrypted stored secrets with the first key: %s", rewritten)
    return rewritten
