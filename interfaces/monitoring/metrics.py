"""The metrics counted as things happen, and the registry a scrape reads.

Multiprocess mode (prometheus-client): gunicorn runs several worker processes and Celery's
prefork pool several children; each keeps its own counts. With ``PROMETHEUS_MULTIPROC_DIR``
set (the image sets ``/app/var/prometheus``), every process writes its counts to files in
that directory and a scrape adds them up (``MultiProcessCollector``). The directory
belongs to one group of processes — one container (``crm_messaging.ops.prometheus``
empties it when the group starts); never point two containers or two process groups at
one directory. Without the variable (``make run``, tests) counts stay in the process,
which is then the only one.

A web container's ``/metrics`` shows what its gunicorn workers counted (webhook
rejections, the tasks they published) and the database numbers; a Celery worker's task
latencies are served by the worker itself on ``CELERY_METRICS_PORT`` (``receivers``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

from crm_messaging.ops.prometheus import multiprocess_dir

# Seconds: Celery tasks run from milliseconds (a heartbeat) to minutes (a large chunk).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

WEBHOOK_REJECTIONS = Counter(
    "crm_webhook_rejections",
    "Webhooks refused (403): a provider's signature or the Mews token did not verify.",
    ["kind"],
)
TASK_QUEUE_WAIT = Histogram(
    "crm_celery_task_queue_wait_seconds",
    "Time from a Celery task's publication to the start of its run.",
    ["task"],
    buckets=LATENCY_BUCKETS,
)
TASK_RUNTIME = Histogram(
    "crm_celery_task_runtime_seconds",
    "Time a Celery task ran, by final state.",
    ["task", "state"],
    buckets=LATENCY_BUCKETS,
)
EVENT_METRICS = (WEBHOOK_REJECTIONS, TASK_QUEUE_WAIT, TASK_RUNTIME)


def event_registry() -> CollectorRegistry:
    """A registry holding the counted metrics of this process, or of every process of its group."""
    registry = CollectorRegistry()
    if multiprocess_dir() is not None:
        MultiProcessCollector(registry)
    else:
        for metric in EVENT_METRICS:
            registry.register(metric)
    return registry
