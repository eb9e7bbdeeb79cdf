"""Kernel periodic tasks (created by this app's migration, editable in the admin)."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command

from .health import WORKER, heartbeat_record


@shared_task(name="ops.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Every 30 s: a worker notes it is alive (what readiness reads)."""
    heartbeat_record(WORKER)


@shared_task(name="ops.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """Hourly: delete expired staff and guest sessions (Django's ``clearsessions``)."""
    call_command("clearsessions")
