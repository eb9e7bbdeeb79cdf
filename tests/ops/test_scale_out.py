"""Scale-out, proven with real processes: three Celery workers and a beat on PostgreSQL and Redis.

An operator campaign goes to 2,000 guests through the real twilio client against the fake
Twilio API (tests/fakes/twilio_api.py). Once a third of the messages reached the provider,
one worker is killed with SIGKILL, mid-batch. Then: every message reached the provider once
or is ``unknown`` — never twice; nothing is left queued or sending once the sweeper ran;
the ledger's posted debits equal the cost of the messages sent; and the account's rate,
measured from the provider's receive times, was never exceeded across the workers. One
worker serves its Celery task latencies on a metrics port, scraped at the end.

The sweeper runs as beat schedules it (every 2 s here), with short thresholds given to the
workers through the environment: a lost task's queued rows are dispatched again after 3 s,
a row left in ``sending`` by the dead worker becomes ``unknown`` after 8 s.
"""

from __future__ import annotations

import collections
import socket
import urllib.request
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import CampaignRun
from campaigns.services import campaign_send
from channels_out.models import LedgerEntry, OutboundMessage, SkipReason, Status
from crm_messaging.celery import app
from tests.fakes.twilio_api import FakeTwilio, running_fake_twilio
from tests.scale_out import (
    TWILIO_SID,
    TWILIO_TOKEN,
    CeleryProcesses,
    database_url,
    prepare_campaign,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

GUESTS = 2_000
RATE = 150  # messages a second through the account, across all workers
WORKERS = ["w1", "w2", "w3"]
KILL_AFTER = GUESTS // 3


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with running_fake_twilio(TWILIO_SID, TWILIO_TOKEN) as server:
        yield server


@pytest.fixture
def broker() -> Iterator[None]:
    """Tasks go to the real broker (Redis) for this test; it starts and ends empty."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = True
        client.flushdb()


@pytest.fixture
def cluster(broker: None) -> Iterator[CeleryProcesses]:
    processes = CeleryProcesses(
        {
            # The workers must open the secrets this process encrypted.
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "DATABASE_URL": database_url(connection.settings_dict),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SWEEPER_REDISPATCH_AFTER_SECONDS": "3",
            "SWEEPER_STUCK_SENDING_AFTER_SECONDS": "8",
        }
    )
    try:
        yield processes
    finally:
        processes.stop()
        connection.close()


def _fast_sweeper() -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_2s, _ = IntervalSchedule.objects.get_or_create(every=2, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="channels_out: sweep the send log",
        defaults={"task": "channels_out.sweep", "interval": every_2s, "enabled": True},
    )


def _settled() -> bool:
    return not OutboundMessage.objects.filter(status__in=(Status.QUEUED, Status.SENDING)).exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(url: str) -> dict[tuple[str, str], float]:
    """A worker's metrics by (sample name, task), summed over the other labels."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    found: collections.Counter[tuple[str, str]] = collections.Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, sample.labels.get("task", ""))] += sample.value
    return dict(found)


def _max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_three_workers_one_killed_send_each_message_at_most_once_within_the_rate(
    fake: FakeTwilio, cluster: CeleryProcesses
) -> None:
    setup = prepare_campaign(guests=GUESTS, twilio_url=fake.base_url, rate_per_second=RATE)
    _fast_sweeper()
    metrics_port = _free_port()
    for name in WORKERS:
        # One worker serves its task latencies to Prometheus (CELERY_METRICS_PORT).
        extra = {"CELERY_METRICS_PORT": str(metrics_port)} if name == "w2" else {}
        cluster.start_worker(name, **extra)
    cluster.start_beat()
    cluster.wait_for_workers(app, WORKERS)

    run = campaign_send(campaign=setup.campaign, user=None, record_ids=setup.guest_ids)
    wait_until(
        lambda: CampaignRun.objects.get(pk=run.pk).state == CampaignRun.State.DONE,
        timeout=120,
        what="the campaign's chunks",
    )
    assert OutboundMessage.objects.filter(account=setup.account).count() == GUESTS

    def enough_sent() -> bool:
        cluster.check_alive(WORKERS)
        return len(fake.requests) >= KILL_AFTER

    wait_until(enough_sent, timeout=120, what=f"{KILL_AFTER} messages at the provider", step=0.05)
    cluster.kill("w1")
    sent_when_killed = len(fake.requests)
    assert sent_when_killed < GUESTS, "the worker must die mid-run"

    wait_until(_settled, timeout=180, what="every message settled after the sweeper")
    latencies = _scrape(f"http://127.0.0.1:{metrics_port}/metrics")
    cluster.stop()

    # Every message reached the provider exactly once, or is unknown (at most once); never twice.
    received = collections.Counter(request.data["To"] for request in fake.requests)
    assert max(received.values()) == 1, "a message reached the provider twice"
    rows = OutboundMessage.objects.filter(account=setup.account)
    statuses = dict(rows.values_list("to", "status"))
    # A render that runs past its 200 ms limit on a very busy machine skips its recipient
    # (the campaign's rule); such a message never goes to the provider.
    too_slow = set(
        rows.filter(status=Status.SKIPPED, skip_reason=SkipReason.RENDER_ERROR).values_list(
            "to", flat=True
        )
    )
    assert len(too_slow) < GUESTS // 100
    assert set(statuses.values()) <= {Status.SENT, Status.UNKNOWN, Status.SKIPPED}
    for to, status in statuses.items():
        if status == Status.SENT:
            assert received[to] == 1, f"{to} is sent but the provider never had it"
        elif status == Status.UNKNOWN:
            assert received[to] <= 1
        else:
            assert to in too_slow and received[to] == 0
    assert set(received) <= set(statuses)
    sent = [to for to, status in statuses.items() if status == Status.SENT]
    assert len(sent) > sent_when_killed  # the survivors went on after the kill

    # Nothing stuck: the sweeper settled what the dead worker left.
    assert not OutboundMessage.objects.filter(status__in=(Status.QUEUED, Status.SENDING)).exists()

    # The ledger's debits are exactly the cost of what was sent.
    posted = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.POST).aggregate(s=Sum("amount"))["s"]
    cost = OutboundMessage.objects.filter(status=Status.SENT).aggregate(s=Sum("credits"))["s"]
    assert posted == cost == Decimal(len(sent))

    print(
        f"killed w1 at {sent_when_killed} requests; {collections.Counter(statuses.values())}; "
        f"busiest second: {_max_in_any_window([r.received_at for r in fake.requests], 1.0)}"
    )
    # The account's rate held across the three workers, by the provider's clock. A worker
    # takes slots in blocks of up to 50 ms, so one second may hold a block more per worker.
    burst = len(WORKERS) * int(RATE * 0.05) + 3
    assert _max_in_any_window([r.received_at for r in fake.requests], 1.0) <= RATE + burst

    # The surviving worker timed its tasks: time in the queue and time running.
    task = "channels_out.deliver_messages"
    assert latencies[("crm_celery_task_queue_wait_seconds_count", task)] >= 1
    assert latencies[("crm_celery_task_runtime_seconds_count", task)] >= 1
