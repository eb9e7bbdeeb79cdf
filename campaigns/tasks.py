"""Celery tasks of the campaign engine: thin wrappers taking ids."""

from __future__ import annotations

from celery import shared_task

from . import triggers
from .models import CampaignRun
from .services import run_launch, run_send_chunk, runs_to_redrive


@shared_task(name="campaigns.process_trigger_event", ignore_result=True)
def process_trigger_event(event_id: int) -> None:
    """Start the runs a trigger event calls for."""
    triggers.trigger_event_process(event_id)


@shared_task(name="campaigns.send_run_chunk", ignore_result=True, acks_late=True)
def send_run_chunk(run_id: int, record_ids: list[int]) -> None:
    """Render and queue one chunk of a run (safe to repeat: dedupe keys)."""
    run_send_chunk(run_id, record_ids)


@shared_task(name="campaigns.tick", ignore_result=True)
def tick() -> None:
    """Every minute: hourly and daily-fallback events, due one-off campaigns, lost work picked up again."""
    triggers.tick()
    for event_id in triggers.pending_events():
        triggers.trigger_event_process(event_id)
    for run_id in runs_to_redrive():
        # Sending the whole run again is safe: every message's dedupe key already exists or is new.
        run_launch(CampaignRun.objects.select_related("campaign").get(pk=run_id))
