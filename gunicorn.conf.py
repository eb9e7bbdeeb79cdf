"""gunicorn's settings for the image (``gunicorn crm_messaging.wsgi --config gunicorn.conf.py``).

``GUNICORN_BIND`` (default ``0.0.0.0:8000``) and ``WEB_CONCURRENCY`` (worker processes,
default 3) come from the environment. With several workers, the Prometheus counters are
kept in ``PROMETHEUS_MULTIPROC_DIR`` (see ``crm_messaging.ops.prometheus``): emptied when
gunicorn starts, a worker's live values dropped when it exits.

The access log (one line a request, on stdout) masks the secrets of addresses — sign-in
links' tokens, the Mews webhook's ``token=`` (``crm_messaging.ops.gunicorn_logging``).
"""

from __future__ import annotations

import os
from typing import Any

from crm_messaging.env import env_int
from crm_messaging.ops.prometheus import multiprocess_dir_reset, multiprocess_process_dead

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = env_int("WEB_CONCURRENCY", 3, minimum=1)
accesslog = "-"
logger_class = "crm_messaging.ops.gunicorn_logging.RedactingLogger"


def on_starting(server: Any) -> None:
    multiprocess_dir_reset()


def child_exit(server: Any, worker: Any) -> None:
    multiprocess_process_dead(worker.pid)
