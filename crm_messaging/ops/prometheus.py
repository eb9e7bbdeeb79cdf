"""prometheus-client's multiprocess directory, kept tidy by the processes that share it.

With ``PROMETHEUS_MULTIPROC_DIR`` set, every process of a group (gunicorn's workers, a
Celery worker's pool) writes its counts to files there, and a scrape adds them up. The
directory belongs to one group — one container: it is emptied when the group starts
(``gunicorn.conf.py``'s ``on_starting``; a Celery worker's ``worker_init``), and a gunicorn
worker that exits is marked dead. The metrics themselves live in ``interfaces.monitoring``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess


def multiprocess_dir() -> Path | None:
    """The multiprocess directory, or None when each process keeps its own counts."""
    raw = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    return Path(raw) if raw else None


def multiprocess_dir_reset() -> None:
    """Empty (or create) the multiprocess directory, before the group's processes start."""
    path = multiprocess_dir()
    if path is None:
        return
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)


def multiprocess_process_dead(pid: int) -> None:
    """Forget the live gauges of a process that exited (its counters still count)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)
