"""The worker side of sending (R2, S3, S10): claim, pace, call the provider, read the outcome.

A message is claimed with a conditional UPDATE (queued → sending) before the provider is
called, so two workers never send the same row. The provider's answer decides what
follows: accepted → sent; transient error → back to queued with backoff and jitter;
permanent → failed (next plan step); ambiguous → unknown, left to an operator, never
resent automatically. The sweeper re-dispatches what a lost task left queued, turns rows
stuck in "sending" (a worker died mid-call) into unknown, and fails Viber messages without
a receipt within their TTL, which starts their SMS fallback.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from itertools import groupby
from typing import Any

from django.db.models import Q
from django.utils import timezone

from crm_messaging.guests.models import ContactChannel

from . import policy
from .backends import Backend, TransportError, get_backend
from .models import ChannelAccount, MessagingPolicy, OutboundMessage, SkipReason, Status
from .services.messages import _record, _skip
from .services.status import message_apply_status
from .throttle import throttle

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0
STUCK_SENDING_AFTER = dt.timedelta(minutes=10)
REDISPATCH_AFTER = dt.timedelta(seconds=60)
CHUNK = 200
# How old a reading of consent may be when a message goes (see _Consent).
CONSENT_MAX_AGE = 1.0


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: 5 s, 10 s, 20 s … capped at 15 min, each × 0.5–1.0."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return ceiling * (rng or random).uniform(0.5, 1.0)


def deliver(message_ids: Iterable[int]) -> dict[int, float]:
    """Send the queued, due messages among ``message_ids``; one backend (connection) per account.

    Returns {message id: seconds} for messages to try again later (transient errors).
    """
    retries: dict[int, float] = {}
    house = MessagingPolicy.load()
    rows = (
        OutboundMessage.objects.filter(pk__in=list(message_ids), status=Status.QUEUED)
        .select_related("account", "guest")
        .order_by("account_id", "pk")
    )
    for _, group in groupby(rows, key=lambda m: m.account_id):
        messages = list(group)
        consent = _Consent(messages)
        backend = get_backend(messages[0].account)
        with backend:
            for index, message in enumerate(messages):
                delay = _deliver_one(backend, message, house, consent.skip(index))
                if delay is not None:
                    retries[message.pk] = delay
    return retries


class _Consent:
    """Consent and greylist for a batch, read at the last moment before sending (G6).

    An opt-out since queueing is honoured: the rule is read again when the batch is
    delivered — in one query for the batch rather than one per message — and read again
    for the rest of the batch once that reading is older than ``CONSENT_MAX_AGE`` (a
    paced account takes a while over a batch).
    """

    def __init__(self, messages: list[OutboundMessage]) -> None:
        self._messages = messages
        self._skips: dict[tuple[str, str, int], policy.Skip] = {}
        self._read_at: float | None = None

    def skip(self, index: int) -> policy.Skip | None:
        """Return why the ``index``-th message of the batch may not go now, or None."""
        if self._read_at is None or time.monotonic() - self._read_at >= CONSENT_MAX_AGE:
            self._read(self._messages[index:])
        message = self._messages[index]
        if message.guest_id is None:
            return None
        return self._skips.get((message.purpose, message.channel, message.guest_id))

    def _read(self, messages: list[OutboundMessage]) -> None:
        self._read_at = time.monotonic()
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for message in messages:
            if message.guest_id is not None:
                groups[(message.purpose, message.channel)].append(message.guest_id)
        self._skips = {
            (purpose, channel, guest_id): skip
            for (purpose, channel), guest_ids in groups.items()
            for guest_id, skip in policy.consent_skips(guest_ids, purpose=purpose, channel=channel).items()
        }


def _deliver_one(
    backend: Backend, message: OutboundMessage, house: MessagingPolicy, consent_skip: policy.Skip | None
) -> float | None:
    now = timezone.now()
    if message.not_before and message.not_before > now:
        return None
    if message.expires_at and message.expires_at <= now:
        _skip(message, policy.Skip(SkipReason.EXPIRED, "its moment passed before it could go"), source="dispatch")
        return None
    if consent_skip:
        _skip(message, consent_skip, source="dispatch")
        return None
    wait_until = policy.quiet_hours_end(
        channel=message.channel, purpose=message.purpose, to=message.to, guest=message.guest, policy=house, at=now, source=message.source
    )
    if wait_until:
        OutboundMessage.objects.filter(pk=message.pk, status=Status.QUEUED).update(not_before=wait_until, updated_at=now)
        _record(message, Status.QUEUED, source="dispatch", description=f"quiet hours: waits until {wait_until:%Y-%m-%d %H:%M} UTC",
                code=SkipReason.QUIET_HOURS, applied=False)
        return None
    throttle(message.account_id, message.account.rate_per_second)
    claimed_at = timezone.now()
    # The attempts we read are part of the condition: if the claim succeeds, the row is
    # exactly what we hold plus this claim, so nothing needs reading back.
    claimed = OutboundMessage.objects.filter(pk=message.pk, status=Status.QUEUED, attempts=message.attempts).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    ).update(status=Status.SENDING, claimed_at=claimed_at, attempts=message.attempts + 1, updated_at=claimed_at)
    if not claimed:
        return None  # another worker has it, or it is no longer queued
    message.status, message.claimed_at, message.updated_at = Status.SENDING, claimed_at, claimed_at
    message.attempts += 1
    try:
        accepted = backend.send(message)
    except TransportError as exc:
        return _after_error(message, exc)
    except Exception as exc:  # a bug or an unforeseen error after the claim: do not guess
        logger.exception("Backend %s raised while sending message %s", backend.name, message.pk)
        message_apply_status(message, Status.UNKNOWN, source="dispatch", description=f"unexpected error: {type(exc).__name__}")
        return None
    message_apply_status(
        message,
        accepted.status,
        source="dispatch",
        provider_message_id=accepted.provider_message_id,
        provider_status=accepted.provider_status,
        payload=accepted.payload,
    )
    return None


def _after_error(message: OutboundMessage, exc: TransportError) -> float | None:
    if exc.ambiguous:
        message_apply_status(message, Status.UNKNOWN, source="dispatch", code=exc.code, description=exc.message)
        return None
    if exc.permanent:
        message_apply_status(message, Status.FAILED, source="dispatch", code=exc.code, description=exc.message)
        return None
    if message.attempts >= MAX_ATTEMPTS:
        message_apply_status(
            message, Status.FAILED, source="dispatch", code=exc.code,
            description=f"gave up after {message.attempts} attempts: {exc.message}",
        )
        return None
    delay = max(exc.retry_after or 0.0, backoff_seconds(message.attempts))
    now = timezone.now()
    # The claim holder gives the row back; the sweeper or the retry task takes it again.
    OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.QUEUED, not_before=now + dt.timedelta(seconds=delay), reason=exc.message[:255],
        provider_code=exc.code[:40], updated_at=now,
    )
    _record(message, Status.QUEUED, source="dispatch", code=exc.code,
            description=f"attempt {message.attempts} failed ({exc.message}); retry in {delay:.0f} s", applied=False)
    return delay


def sweep(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Find work nobody is doing; return what was found (ids to dispatch and counts)."""
    now = now or timezone.now()
    due = list(
        OutboundMessage.objects.filter(status=Status.QUEUED, updated_at__lte=now - REDISPATCH_AFTER)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:10_000]
    )
    stuck = 0
    for message in OutboundMessage.objects.filter(status=Status.SENDING, claimed_at__lte=now - STUCK_SENDING_AFTER):
        stuck += message_apply_status(
            message, Status.UNKNOWN, source="sweeper",
            description="the worker stopped while sending: it may or may not have gone out",
        )
    # Past its TTL Viber will not deliver a message: it has failed, which releases its
    # credits and starts the next step of its plan (the SMS), once (S3).
    expired = 0
    for account in ChannelAccount.objects.filter(channel=ContactChannel.VIBER):
        late = OutboundMessage.objects.filter(
            account=account, status=Status.SENT, sent_at__lte=now - dt.timedelta(seconds=account.ttl)
        )
        for message in late:
            expired += message_apply_status(
                message, Status.FAILED, source="sweeper", code="ttl",
                description=f"no delivery receipt within the {account.ttl} s time to live",
            )
    return {"due": due, "stuck": stuck, "ttl_expired": expired}
