"""Runs (C7, C12, R1, R2): turn an occurrence into messages, in chunks, once per recipient.

A run is created once per (campaign, occurrence); its audience is evaluated when it runs
(never frozen earlier) and split into chunks of record ids, each rendered and queued by a
Celery task in one transaction. Every message's dedupe key names the campaign, the record
and the record's moment, so re-running a chunk, a lost task re-driven, a double tick or a
campaign edited mid-day sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from channels_out.services import message_send_many
from crm_messaging.actors import Actor, acting_user
from crm_messaging.handoff import hand_off_on_commit

from ..audiences import audience
from ..models import Campaign, CampaignRun
from ..occurrences import Occurrence
from ..signals import campaign_run_finished
from .compose import Composer

logger = logging.getLogger(__name__)
CHUNK_SIZE = 500
REDRIVE_AFTER = dt.timedelta(minutes=10)


# --- starting runs ---------------------------------------------------------------------------


def run_open(
    campaign: Campaign,
    occurrence: Occurrence,
    *,
    trigger: str,
    user: Actor = None,
    record_ids: Sequence[int] | None = None,
    state: str = CampaignRun.State.RUNNING,
) -> tuple[CampaignRun, bool]:
    """Create the run of ``occurrence`` once; return (run, created)."""
    try:
        with transaction.atomic():
            run = CampaignRun.objects.create(
                campaign=campaign,
                trigger=trigger,
                occurrence=occurrence.label,
                state=state,
                requested_by=acting_user(user),
                selected_ids=list(record_ids or []),
            )
            return run, True
    except IntegrityError:
        return CampaignRun.objects.get(campaign=campaign, occurrence=occurrence.label), False


def occurrence_of(run: CampaignRun) -> Occurrence:
    """Rebuild the occurrence a run is for, from its label."""
    kind, _, rest = run.occurrence.partition(":")
    if kind == "daily":
        return Occurrence.daily(dt.date.fromisoformat(rest), at=run.started_at)
    if kind == "hourly":
        return Occurrence.hourly(dt.datetime.fromisoformat(rest), at=run.started_at)
    if kind == "event":
        trigger, record_id, *change = rest.split(":")
        return Occurrence.event(trigger, int(record_id), at=run.started_at, change="".join(change))
    if kind == "once":
        return Occurrence.once(dt.datetime.fromisoformat(rest))
    return Occurrence.operator(dt.datetime.fromisoformat(rest))


def run_launch(run: CampaignRun) -> CampaignRun:
    """Evaluate the run's audience now and queue its chunks (after commit)."""
    campaign = run.campaign
    occurrence = occurrence_of(run)
    records = audience(campaign, occurrence)
    if run.selected_ids:
        records = records.filter(pk__in=run.selected_ids)
    ids = list(records.order_by("pk").values_list("pk", flat=True))
    chunks = [ids[i : i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE)]
    CampaignRun.objects.filter(pk=run.pk).update(
        audience_size=len(ids),
        chunks_total=len(chunks),
        chunks_done=0,
        state=CampaignRun.State.RUNNING,
    )
    if not chunks:
        run_finish(run.pk)
    for chunk in chunks:
        # A broker that cannot take a chunk is logged; the tick re-drives the run (REDRIVE_AFTER).
        hand_off_on_commit("campaigns.send_run_chunk", run.pk, chunk)
    run.refresh_from_db()
    return run


@transaction.atomic
def run_finish(run_id: int) -> None:
    """Mark a running run done once all its chunks are; the one call that does so tells
    ``campaign_run_finished`` (in the same transaction)."""
    if CampaignRun.objects.filter(
        pk=run_id, state=CampaignRun.State.RUNNING, chunks_done__gte=F("chunks_total")
    ).update(state=CampaignRun.State.DONE, finished_at=timezone.now()):
        campaign_run_finished.send(sender=CampaignRun, run=CampaignRun.objects.get(pk=run_id))


# --- one chunk -------------------------------------------------------------------------------


def run_send_chunk(run_id: int, record_ids: Sequence[int]) -> int:
    """Render and queue the messages of one chunk in one transaction; return how many were queued.

    The records are read again through the audience, so one that no longer qualifies (a
    cancelled stay, a withdrawn consent filter) is left out. A recipient whose message fails
    to render is logged as skipped with the reason; the others go on.
    """
    run = CampaignRun.objects.select_related("campaign", "requested_by").get(pk=run_id)
    composer = Composer(run.campaign, occurrence_of(run), run=run)
    records = audience(run.campaign, composer.occurrence).filter(pk__in=list(record_ids))
    composed = composer.compose_many(records.order_by("pk"))
    failures = Counter(item.failure for item in composed if item.failure)
    with transaction.atomic():
        messages = message_send_many([item.request for item in composed])
        if failures:
            locked = CampaignRun.objects.select_for_update().get(pk=run.pk)
            merged = Counter(locked.render_failures) + failures
            CampaignRun.objects.filter(pk=run.pk).update(render_failures=dict(merged))
        CampaignRun.objects.filter(pk=run.pk).update(chunks_done=F("chunks_done") + 1)
        run_finish(run.pk)
    return len(messages)


def runs_to_redrive(*, now: dt.datetime | None = None) -> list[int]:
    """Runs whose chunks did not all finish in time (a lost task): send them again, safely."""
    now = now or timezone.now()
    return list(
        CampaignRun.objects.filter(
            state=CampaignRun.State.RUNNING,
            chunks_done__lt=F("chunks_total"),
            started_at__lte=now - REDRIVE_AFTER,
        ).values_list("pk", flat=True)[:50]
    )
