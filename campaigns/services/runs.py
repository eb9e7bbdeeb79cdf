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
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from channels_out.models import MessagingPolicy
from channels_out.policy import Skip
from channels_out.services import MessageRequest, Step, message_send_many
from crm_messaging.actors import Actor, acting_user
from crm_messaging.handoff import hand_off_on_commit
from guests.links import guest_links
from guests.models import ContactChannel, FacilityBooking, Guest, Hotel, Reservation

from ..audiences import audience
from ..models import (
    Campaign,
    CampaignRun,
    CampaignSettings,
    Source,
    Timing,
    Trigger,
)
from ..occurrences import Occurrence, occurrence_key
from ..rendering import RenderError, build_context, choose_variant, compile_variant

logger = logging.getLogger(__name__)
CHUNK_SIZE = 500
REDRIVE_AFTER = dt.timedelta(minutes=10)


# --- what a record is about ------------------------------------------------------------------


def record_parts(
    campaign: Campaign, record: Any
) -> tuple[Guest, Reservation | None, FacilityBooking | None]:
    """Return (guest, reservation, facility booking) of an audience record."""
    if campaign.source == Source.GUESTS:
        return record, None, None
    if campaign.source == Source.RESERVATIONS:
        return record.booker, record, None
    return record.guest, record.reservation, record


def record_context(
    campaign: Campaign,
    record: Any,
    *,
    hotel: Hotel,
    language: str,
    links: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What the message's template sees for an audience record, in ``language``."""
    guest, reservation, facility_booking = record_parts(campaign, record)
    return build_context(
        guest=guest,
        reservation=reservation,
        facility_booking=facility_booking,
        hotel=hotel,
        links=links,
        language=language,
    )


def dedupe_key(campaign: Campaign, record: Any, occurrence: Occurrence, run: CampaignRun) -> str:
    """(campaign, recipient record, occurrence) — channels_out adds the plan step (R1)."""
    moment = occurrence_key(campaign, record, occurrence, run_id=run.pk)
    return f"campaign:{campaign.pk}:{record._meta.model_name}:{record.pk}:{moment}"


def _expires_at(
    campaign: Campaign, record: Any, occurrence: Occurrence, arrival_time: dt.time
) -> dt.datetime | None:
    """After this moment the message is pointless (a reminder after the arrival, a birthday wish next week)."""
    zone = timezone.get_current_timezone()
    if campaign.timing in (Timing.DAYS_BEFORE_ARRIVAL, Timing.HOURS_BEFORE_ARRIVAL):
        return dt.datetime.combine(record.arrival, arrival_time, tzinfo=zone)
    if campaign.timing in (Timing.HOURS_BEFORE_START, Timing.DAYS_BEFORE_START):
        return record.starts_at
    if campaign.timing == Timing.BIRTHDAY:
        return dt.datetime.combine(occurrence.day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return occurrence.at + dt.timedelta(days=2)


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
        trigger, _, record_id = rest.rpartition(":")
        return Occurrence.event(trigger, int(record_id), at=run.started_at)
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
    # The Celery task module imports these services.
    from ..tasks import send_run_chunk

    for chunk in chunks:
        # A broker that cannot take a chunk is logged; the tick re-drives the run (REDRIVE_AFTER).
        hand_off_on_commit(send_run_chunk, run.pk, chunk)
    run.refresh_from_db()
    return run


def run_finish(run_id: int) -> None:
    """Mark a running run done once all its chunks are."""
    CampaignRun.objects.filter(
        pk=run_id, state=CampaignRun.State.RUNNING, chunks_done__gte=F("chunks_total")
    ).update(state=CampaignRun.State.DONE, finished_at=timezone.now())


# --- one chunk -------------------------------------------------------------------------------


def message_step(
    step: Any, variant: Any, rendered: Any, *, to: str = "", subject_prefix: str = ""
) -> Step:
    """The sender's step for one step of the plan, carrying the rendered message: e-mail gets
    the subject and HTML, WhatsApp the approved template and its variables, every channel the
    text."""
    is_email = step.channel == ContactChannel.EMAIL
    is_whatsapp = step.channel == ContactChannel.WHATSAPP
    return Step(
        channel=step.channel,
        account=step.account,
        to=to,
        text=rendered.text,
        subject=f"{subject_prefix}{rendered.subject}" if is_email else "",
        html=rendered.html if is_email else "",
        template_id=variant.whatsapp_content_sid if is_whatsapp else "",
        template_variables=rendered.whatsapp_variables if is_whatsapp else {},
    )


def _steps_for(
    campaign_steps: list[Any], variant: Any, rendered: Any, *, automatic: bool, sms_on: bool
) -> list[Step]:
    return [
        message_step(step, variant, rendered)
        for step in campaign_steps
        # The hotel may switch automatic SMS off (seed 001).
        if not (automatic and not sms_on and step.channel == ContactChannel.SMS)
    ]


def links_for(campaign: Campaign, guest: Guest, channel: str) -> dict[str, str]:
    """Links a message may carry: the guest's own unsubscribe link (@UNSUBSCRIBE) and the portal (@PORTAL)."""
    links = guest_links()
    return {"unsubscribe": links.unsubscribe_url(guest, channel), "portal": links.portal_url()}


def link_secrets(guest: Guest, channel: str) -> tuple[str, ...]:
    """What in ``links_for`` works as a key (the unsubscribe token): the send log masks it."""
    return (guest_links().unsubscribe_secret(guest, channel),)


def run_send_chunk(run_id: int, record_ids: Sequence[int]) -> int:
    """Render and queue the messages of one chunk in one transaction; return how many were queued.

    The records are read again through the audience, so one that no longer qualifies (a
    cancelled stay, a withdrawn consent filter) is left out. A recipient whose message fails
    to render is logged as skipped with the reason; the others go on.
    """
    run = CampaignRun.objects.select_related("campaign").get(pk=run_id)
    campaign = run.campaign
    occurrence = occurrence_of(run)
    hotel = Hotel.load()
    house = MessagingPolicy.load()
    variants = list(campaign.variants.all())
    steps = list(campaign.steps.select_related("account"))
    automatic = run.trigger != Trigger.OPERATOR
    arrival_time = CampaignSettings.load().arrival_time
    records = audience(campaign, occurrence).filter(pk__in=list(record_ids))
    requests: list[MessageRequest] = []
    failures: Counter[str] = Counter()
    for record in records:
        guest, reservation, facility_booking = record_parts(campaign, record)
        variant = choose_variant(variants, guest.language)
        common: dict[str, Any] = {
            "purpose": campaign.purpose,
            "guest": guest,
            "reservation": reservation,
            "facility_booking": facility_booking,
            "dedupe_key": dedupe_key(campaign, record, occurrence, run),
            "origin": run,
            "source": "campaign",
            "user": run.requested_by,
            "expires_at": _expires_at(campaign, record, occurrence, arrival_time),
        }
        if variant is None or not steps:
            reason = "the campaign has no message or no channel"
            failures[reason] += 1
            requests.append(
                MessageRequest(
                    steps=[Step(channel=steps[0].channel if steps else ContactChannel.SMS)],
                    skip=Skip("render_error", reason),
                    **common,
                )
            )
            continue
        try:
            compiled = compile_variant(variant)
            # The guest's own links are signed per guest: only for a message that shows them.
            links = links_for(campaign, guest, steps[0].channel) if compiled.uses_links else None
            context = record_context(
                campaign, record, hotel=hotel, language=variant.language, links=links
            )
            rendered = compiled.render(context)
        except RenderError as exc:
            failures[str(exc)] += 1
            requests.append(
                MessageRequest(
                    steps=[Step(channel=steps[0].channel, account=steps[0].account)],
                    language=variant.language,
                    skip=Skip("render_error", str(exc)[:255]),
                    **common,
                )
            )
            continue
        plan = _steps_for(
            steps, variant, rendered, automatic=automatic, sms_on=house.sms_notifications_enabled
        )
        if not plan:
            requests.append(
                MessageRequest(
                    steps=[Step(channel=ContactChannel.SMS, account=steps[0].account)],
                    language=variant.language,
                    skip=Skip("notifications_off", "automatic SMS notifications are switched off"),
                    **common,
                )
            )
            continue
        requests.append(
            MessageRequest(
                steps=plan,
                language=variant.language,
                secrets=link_secrets(guest, steps[0].channel) if compiled.uses_links else (),
                **common,
            )
        )
    with transaction.atomic():
        messages = message_send_many(requests)
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
