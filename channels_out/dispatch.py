"""The worker side of sending (R2, S3, S10): claim, pace, call the provider, read the outcome.

A message is claimed with a conditional UPDATE (queued → sending) before the provider is
called, so two workers never send the same row. The provider's answer decides what
follows: accepted → sent; transient error → back to queued with backoff and jitter;
permanent → failed (next plan step); ambiguous → unknown, left to an operator, never
resent automatically. Answers are written in small batches (``_Outcomes``: every
``FLUSH_EVERY`` messages, after ``FLUSH_AFTER`` seconds, whenever pacing makes the worker
wait, and when the batch ends or breaks off); a worker that dies before writing leaves its
rows in "sending", which the sweeper turns into unknown — never into a second send. The sweeper re-dispatches what a lost task left queued, turns rows
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

from django.conf import settings
from django.db import connection
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_noop

from crm_messaging.i18n import Phrase
from guests.models import ContactChannel

from . import policy
from .backends import Backend, TransportError, get_backend
from .models import ChannelAccount, Hold, MessagingPolicy, OutboundMessage, SkipReason, Status
from .services.messages import delivery_event_record, message_skip, messages_wipe_sealed
from .services.status import StatusChange, message_apply_statuses
from .text import unsealed
from .throttle import Pacer

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0
# Settings (environment), read when a worker starts: SWEEPER_STUCK_SENDING_AFTER_SECONDS
# (10 min) and SWEEPER_REDISPATCH_AFTER_SECONDS (60 s).
STUCK_SENDING_AFTER = dt.timedelta(seconds=settings.SWEEPER_STUCK_SENDING_AFTER_SECONDS)
REDISPATCH_AFTER = dt.timedelta(seconds=settings.SWEEPER_REDISPATCH_AFTER_SECONDS)
CHUNK = 200
# How many provider answers, or how old the oldest, before they are written; and how long
# a wait for the next send slot must be to write them meanwhile (see _Outcomes).
FLUSH_EVERY = 50
FLUSH_AFTER = 0.5
FLUSH_WHILE_IDLE = 0.02
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
        pacer = Pacer(
            messages[0].account_id, messages[0].account.rate_per_second, expected=len(messages)
        )
        with backend, _Outcomes() as outcomes:
            for index, message in enumerate(messages):
                delay = _deliver_one(backend, message, house, consent.skip(index), pacer, outcomes)
                if delay is not None:
                    retries[message.pk] = delay
    return retries


class _Outcomes:
    """The provider's answers of a batch, written together (``message_apply_statuses``).

    Written when ``FLUSH_EVERY`` are waiting or the oldest is ``FLUSH_AFTER`` seconds old,
    when pacing makes the worker wait at least ``FLUSH_WHILE_IDLE`` anyway (a slowly paced
    account's log stays current), and on leaving the block — also when it is left by an
    exception, so what the provider accepted is recorded even then.
    """

    def __init__(self) -> None:
        self._pending: list[StatusChange] = []
        self._oldest = 0.0

    def __enter__(self) -> _Outcomes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()

    def add(self, change: StatusChange) -> None:
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append(change)
        if len(self._pending) >= FLUSH_EVERY or time.monotonic() - self._oldest >= FLUSH_AFTER:
            self.flush()

    def idle(self, seconds: float) -> None:
        """The worker will wait ``seconds`` for its next send slot: write the answers if that is long enough."""
        if seconds >= FLUSH_WHILE_IDLE:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            message_apply_statuses(pending, source="dispatch")
        except Exception:
            # One answer that cannot be written (a bug, a contradiction in the ledger) must
            # not cost the others theirs: write them one by one. The one that still fails
            # stays "sending", and the sweeper makes it unknown for an operator.
            logger.exception(
                "Writing %d providers' answers together failed; writing them one by one",
                len(pending),
            )
            for change in pending:
                try:
                    message_apply_statuses([change], source="dispatch")
                except Exception:
                    logger.exception(
                        "The provider's answer for message %s could not be recorded",
                        change.message.pk,
                    )


class _Consent:
    """Consent, greylist and suppressed addresses for a batch, read at the last moment before sending (G6, E2).

    An opt-out since queueing is honoured: the rule is read again when the batch is
    delivered — in one query for the batch rather than one per message — and read again
    for the rest of the batch once that reading is older than ``CONSENT_MAX_AGE`` (a
    paced account takes a while over a batch).
    """

    def __init__(self, messages: list[OutboundMessage]) -> None:
        self._messages = messages
        self._skips: dict[tuple[str, str, int], policy.Skip] = {}
        self._suppressed: set[str] = set()
        self._read_at: float | None = None

    def skip(self, index: int) -> policy.Skip | None:
        """Return why the ``index``-th message of the batch may not go now, or None."""
        if self._read_at is None or time.monotonic() - self._read_at >= CONSENT_MAX_AGE:
            self._read(self._messages[index:])
        message = self._messages[index]
        if (
            message.channel == ContactChannel.EMAIL
            and message.to.lower() in self._suppressed
            and message.source not in policy.ANSWER_SOURCES
        ):
            return policy.suppression_skip(message.to)
        if message.guest_id is None:
            return None
        return self._skips.get((message.purpose, message.channel, message.guest_id))

    def _read(self, messages: list[OutboundMessage]) -> None:
        self._read_at = time.monotonic()
        # An address that bounced since queueing is not mailed either (E2).
        self._suppressed = policy.suppressed_addresses(
            [m.to for m in messages if m.channel == ContactChannel.EMAIL]
        )
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for message in messages:
            if message.guest_id is not None:
                groups[(message.purpose, message.channel)].append(message.guest_id)
        self._skips = {
            (purpose, channel, guest_id): skip
            for (purpose, channel), guest_ids in groups.items()
            for guest_id, skip in policy.consent_skips(
                guest_ids, purpose=purpose, channel=channel
            ).items()
        }


def _deliver_one(
    backend: Backend,
    message: OutboundMessage,
    house: MessagingPolicy,
    consent_skip: policy.Skip | None,
    pacer: Pacer,
    outcomes: _Outcomes,
) -> float | None:
    """Send one message; hand the provider's answer to ``outcomes``; return a retry delay for a transient error."""
    now = timezone.now()
    if message.not_before and message.not_before > now:
        return None
    if message.expires_at and message.expires_at <= now:
        message_skip(
            message,
            policy.Skip(
                SkipReason.EXPIRED, Phrase(gettext_noop("its moment passed before it could go"))
            ),
            source="dispatch",
        )
        return None
    if consent_skip:
        message_skip(message, consent_skip, source="dispatch")
        return None
    wait_until = (
        None
        if message.hold == Hold.SENT_NOW  # staff chose to send it despite the quiet hours
        else policy.message_quiet_until(message, policy=house, at=now)
    )
    if wait_until:
        OutboundMessage.objects.filter(pk=message.pk, status=Status.QUEUED).update(
            not_before=wait_until, hold=Hold.QUIET_HOURS, updated_at=now
        )
        delivery_event_record(
            message,
            Status.QUEUED,
            source="dispatch",
            description=Phrase(
                gettext_noop("quiet hours: waits until %(time)s UTC"),
                {"time": f"{wait_until:%Y-%m-%d %H:%M}"},
            ),
            code=SkipReason.QUIET_HOURS,
            applied=False,
        )
        return None
    pacer.wait(while_waiting=outcomes.idle)
    claimed_at = timezone.now()
    if not _claim(message, now=now, at=claimed_at):
        return None  # another worker has it, or it is no longer queued
    try:
        accepted = backend.send(unsealed(message))  # the full text goes; the log keeps the mask
    except TransportError as exc:
        return _after_error(message, exc, outcomes)
    except Exception as exc:  # a bug or an unforeseen error after the claim: do not guess
        logger.exception("Backend %s raised while sending message %s", backend.name, message.pk)
        outcomes.add(
            StatusChange(
                message,
                Status.UNKNOWN,
                description=Phrase(
                    gettext_noop("unexpected error: %(error)s"), {"error": type(exc).__name__}
                ),
            )
        )
        return None
    outcomes.add(
        StatusChange(
            message,
            accepted.status,
            provider_message_id=accepted.provider_message_id,
            provider_status=accepted.provider_status,
            payload=accepted.payload,
        )
    )
    return None


def _claim_sql() -> str:
    meta = OutboundMessage._meta
    columns = {field.name: field.column for field in meta.concrete_fields}
    table, column = meta.db_table, columns.__getitem__
    return (
        f"UPDATE {table} SET {column('status')} = %s, {column('claimed_at')} = %s, {column('attempts')} = %s, "
        f"{column('updated_at')} = %s WHERE {column('id')} = %s AND {column('status')} = %s "
        f"AND {column('attempts')} = %s AND ({column('not_before')} IS NULL OR {column('not_before')} <= %s)"
    )


_CLAIM_SQL = _claim_sql()


def _claim(message: OutboundMessage, *, now: dt.datetime, at: dt.datetime) -> bool:
    """Take ``message`` (queued → sending) unless another worker did; one conditional UPDATE.

    The attempts we read are part of the condition: if the claim succeeds, the row is
    exactly what we hold plus this claim, so nothing needs reading back. This is the one
    statement every single send pays for, written out rather than compiled by the ORM
    each time (see bench/send.py); it is the ORM's ``filter(pk=…, status=QUEUED,
    attempts=…, not_before is null or ≤ now).update(status=SENDING, …)``.
    """
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            [
                Status.SENDING,
                adapt(at),
                message.attempts + 1,
                adapt(at),
                message.pk,
                Status.QUEUED,
                message.attempts,
                adapt(now),
            ],
        )
        claimed = cursor.rowcount == 1
    if claimed:
        message.status, message.claimed_at, message.updated_at = Status.SENDING, at, at
        message.attempts += 1
    return claimed


def _after_error(
    message: OutboundMessage, exc: TransportError, outcomes: _Outcomes
) -> float | None:
    if exc.ambiguous:
        outcomes.add(StatusChange(message, Status.UNKNOWN, code=exc.code, description=exc.message))
        return None
    if exc.permanent:
        outcomes.add(StatusChange(message, Status.FAILED, code=exc.code, description=exc.message))
        return None
    if message.attempts >= MAX_ATTEMPTS:
        outcomes.add(
            StatusChange(
                message,
                Status.FAILED,
                code=exc.code,
                description=Phrase(
                    gettext_noop("gave up after %(n)s attempts: %(error)s"),
                    {"n": message.attempts, "error": exc.message},
                ),
            )
        )
        return None
    delay = max(exc.retry_after or 0.0, backoff_seconds(message.attempts))
    now = timezone.now()
    # The claim holder gives the row back; the sweeper or the retry task takes it again.
    OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.QUEUED,
        not_before=now + dt.timedelta(seconds=delay),
        # A retry waits for its backoff, not for quiet hours (a staff "send now" still stands).
        hold=Case(When(hold=Hold.SENT_NOW, then=Value(Hold.SENT_NOW)), default=Value(Hold.NONE)),
        reason=exc.message[:255],
        provider_code=exc.code[:40],
        updated_at=now,
    )
    delivery_event_record(
        message,
        Status.QUEUED,
        source="dispatch",
        code=exc.code,
        description=Phrase(
            gettext_noop("attempt %(n)s failed (%(error)s); retry in %(seconds)s s"),
            {"n": message.attempts, "error": exc.message, "seconds": f"{delay:.0f}"},
        ),
        applied=False,
    )
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
    stuck_rows = OutboundMessage.objects.filter(
        status=Status.SENDING, claimed_at__lte=now - STUCK_SENDING_AFTER
    )
    stuck = _apply_in_chunks(
        stuck_rows,
        Status.UNKNOWN,
        description=Phrase(
            gettext_noop("the worker stopped while sending: it may or may not have gone out")
        ),
    )
    # Past its TTL Viber will not deliver a message: it has failed, which releases its
    # credits and starts the next step of its plan (the SMS), once (S3).
    expired = 0
    for account in ChannelAccount.objects.filter(channel=ContactChannel.VIBER):
        late = OutboundMessage.objects.filter(
            account=account,
            status=Status.SENT,
            sent_at__lte=now - dt.timedelta(seconds=account.ttl),
        )
        expired += _apply_in_chunks(
            late,
            Status.FAILED,
            code="ttl",
            description=Phrase(
                gettext_noop("no delivery receipt within the %(seconds)s s time to live"),
                {"seconds": account.ttl},
            ),
        )
    # Whatever changed status elsewhere (a top-up's expiry, an old row): full texts not needed go.
    wiped = messages_wipe_sealed()
    return {"due": due, "stuck": stuck, "ttl_expired": expired, "sealed_wiped": wiped}


def _apply_in_chunks(
    rows: QuerySet[OutboundMessage], status: str, *, code: str = "", description: Phrase
) -> int:
    """The sweeper's finding for many rows, applied ``CHUNK`` at a time; return how many moved."""
    moved = 0
    pks = list(rows.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), CHUNK):
        messages = OutboundMessage.objects.filter(pk__in=pks[start : start + CHUNK]).select_related(
            "guest"
        )
        changes = [StatusChange(m, status, code=code, description=description) for m in messages]
        moved += sum(message_apply_statuses(changes, source="sweeper"))
    return moved
