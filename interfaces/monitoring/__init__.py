"""Prometheus metrics at ``/metrics`` (prometheus-client).

Two kinds of numbers:

- read from the database on every scrape (``collector.DatabaseCollector``): messages by
  status and channel, messages sent and failed per account (counters: ``rate()`` gives the
  send and failure rates), queue depth, the credit balance, campaign runs;
- counted as things happen (``metrics``): webhooks refused for a bad signature, and the
  latency of Celery tasks (time in the queue, time running) through Celery's signals.

Counters kept by several processes (gunicorn workers, Celery's pool) use prometheus-client's
multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set; see ``metrics``.
"""
