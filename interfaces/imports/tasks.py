"""The import's work in a Celery worker (I3): a 10,000-row file takes longer than a web
request may, so the screen hands the dry run and the import to these tasks and shows their
progress."""

from __future__ import annotations

from celery import shared_task

from .services import import_run


@shared_task(name="imports.run", ignore_result=True)
def run_import(upload_id: int, user_id: int | None = None) -> None:
    """Run the dry run or the import an upload is waiting for."""
    import_run(upload_id=upload_id, user_id=user_id)
