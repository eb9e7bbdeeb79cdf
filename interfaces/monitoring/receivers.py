"""What feeds the counted metrics: the webhook signal and Celery's task signals.

Celery task latency: the publisher stamps each task's headers with the time it was sent
(``before_task_publish``); the worker observes the time in the queue when the task starts
(``task_prerun``) and its run time when it ends (``task_postrun``). A Celery worker with
``CELERY_METRICS_PORT`` set serves these on that port (prometheus-client's HTTP server, in
the worker's main process; the pool's children count through the multiprocess directory).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import signals
from django.conf import settings
from prometheus_client import start_http_server

from channels_out.signals import webhook_rejected

from .metrics import TASK_QUEUE_WAIT, TASK_RUNTIME, WEBHOOK_REJECTIONS, event_registry

logger = logging.getLogger(__name__)

PUBLISHED_AT_HEADER = "crm_published_at"
_STARTED_AT = "_crm_started_at"


def _webhook_rejected(sender: Any, *, kind: str, **kwargs: Any) -> None:
    WEBHOOK_REJECTIONS.labels(kind=kind).inc()


def _stamp_published(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None:
        headers.setdefault(PUBLISHED_AT_HEADER, time.time())


def _task_started(task: Any = None, **kwargs: Any) -> None:
    if task is None:
        return
    setattr(task.request, _STARTED_AT, time.perf_counter())
    published = getattr(task.request, PUBLISHED_AT_HEADER, None)
    if isinstance(published, int | float):
        TASK_QUEUE_WAIT.labels(task=task.name).observe(max(0.0, time.time() - published))


def _task_finished(task: Any = None, state: str | None = None, **kwargs: Any) -> None:
    started = getattr(getattr(task, "request", None), _STARTED_AT, None)
    if started is None:
        return
    TASK_RUNTIME.labels(task=task.name, state=state or "UNKNOWN").observe(
        time.perf_counter() - started
    )


def _serve_worker_metrics(**kwargs: Any) -> None:
    port = settings.CELERY_METRICS_PORT
    if not port:
        return
    start_http_server(port, addr=settings.CELERY_METRICS_ADDRESS, registry=event_registry())
    logger.info(
        "Celery task metrics served on %s:%s/metrics", settings.CELERY_METRICS_ADDRESS, port
    )


def connect() -> None:
    """Connect the receivers (once; ``MonitoringConfig.ready`` calls this)."""
    webhook_rejected.connect(_webhook_rejected, dispatch_uid="monitoring.webhook_rejected")
    signals.before_task_publish.connect(_stamp_published, weak=False)
    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_task_finished, weak=False)
    signals.worker_ready.connect(_serve_worker_metrics, weak=False)
