"""Periodic tasks that data migrations create (django-celery-beat), one way for every app.

A migration passes its historical ``apps``; the rows then show in the admin under
*Periodic tasks*, where staff may change the interval or switch a task off.
"""

from __future__ import annotations

from typing import Any


def periodic_task_create(
    apps: Any,
    *,
    name: str,
    task: str,
    every: int,
    period: str,
    description: str,
    expire_seconds: int | None = None,
) -> None:
    """Schedule ``task`` every ``every`` ``period`` (seconds, minutes, hours, days), once by ``name``."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
    PeriodicTask.objects.get_or_create(
        name=name,
        defaults={
            "task": task,
            "interval": interval,
            "description": description,
            "expire_seconds": expire_seconds,
        },
    )


def periodic_tasks_remove(apps: Any, *tasks: str) -> None:
    """Unschedule these tasks (a migration's reverse)."""
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=tasks).delete()
