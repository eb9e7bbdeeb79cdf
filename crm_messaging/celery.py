"""The Celery application; configuration comes from Django settings (``CELERY_*``)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

from crm_messaging.ops.prometheus import multiprocess_dir_reset

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")

app = Celery("crm_messaging")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _fresh_metrics_dir(**kwargs: Any) -> None:
    """A worker starts a new group of processes: its metrics directory starts empty."""
    multiprocess_dir_reset()
