"""Does sending scale out? The same campaign with 1, 2 and 4 Celery worker processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scale \
    REDIS_URL=redis://127.0.0.1:6379/4 CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/scale.py [--guests 10000] [--workers 1,2,4] [--latency 0.05]

Needs PostgreSQL (a database whose name contains "bench": created and migrated when
missing; its send log, ledger and campaign runs are emptied before every round) and Redis
(the broker, and the throttle the workers share); the broker's Redis database is flushed
before every round. The campaign uses only guests of its own (last name "Scalebench",
created on first use) and sends to exactly those ("send to selected").

Each round starts N real worker processes (``celery worker --pool=solo``: one process
each), sends an operator SMS campaign to the guests through the real twilio client against
the fake Twilio API (tests/fakes/twilio_api.py, in this process) answering every message
after ``--latency`` seconds (50 ms, a provider's typical time), and times it from the send
until no message is queued or sending; throughput is the messages sent over that time (on
a busy machine a message or two may be skipped because its render ran past the 200 ms
limit; the script says so). The account's rate is set high enough never to bind. The last
lines are the ratios to one worker:

    scale 2 workers: 1.9x one worker
    scale 4 workers: 3.6x one worker
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")
os.environ.setdefault("DEBUG", "0")

from bench.fanout import empty_send_log  # noqa: E402
from bench.send import ensure_database  # noqa: E402

TAG = "Scalebench"
RATE = 9_999  # messages a second: pacing must not be what is measured


def _require() -> tuple[str, str, str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/scale.py needs PostgreSQL: set DATABASE_URL=postgres://…/bench_scale")
    if "bench" not in urlsplit(url).path:
        sys.exit("the database's name must contain 'bench': every round empties its send log")
    redis_url = os.environ.get("REDIS_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not redis_url.startswith("redis://") or not broker.startswith("redis://"):
        sys.exit("bench/scale.py needs Redis: set REDIS_URL and CELERY_BROKER_URL=redis://…")
    return url, redis_url, broker


def _round(workers: int, guests: int, fake: Any, environment: dict[str, str]) -> tuple[int, float]:
    """Send the campaign with ``workers`` processes; return (messages sent, seconds)."""
    import redis
    from django.conf import settings
    from django.db.models import Count

    from campaigns.models import CampaignRun
    from campaigns.services import campaign_send
    from channels_out.models import OutboundMessage, Status
    from crm_messaging.celery import app
    from tests.scale_out import CeleryProcesses, prepare_campaign, wait_until

    empty_send_log()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    setup = prepare_campaign(guests=guests, twilio_url=fake.base_url, rate_per_second=RATE, tag=TAG)
    names = [f"bench{n}" for n in range(1, workers + 1)]
    processes = CeleryProcesses(environment)
    try:
        for name in names:
            processes.start_worker(name)
        processes.wait_for_workers(app, names)
        before = len(fake.requests)
        start = time.perf_counter()
        run = campaign_send(campaign=setup.campaign, user=None, record_ids=setup.guest_ids)

        def done() -> bool:
            processes.check_alive(names)
            if CampaignRun.objects.get(pk=run.pk).state != CampaignRun.State.DONE:
                return False  # still fanning out: not every message exists yet
            return not OutboundMessage.objects.filter(
                status__in=(Status.QUEUED, Status.SENDING)
            ).exists()

        wait_until(done, timeout=4 * 3600, what="the campaign", step=0.2)
        elapsed = time.perf_counter() - start
    finally:
        processes.stop()
    sent = OutboundMessage.objects.filter(status=Status.SENT).count()
    received = len(fake.requests) - before
    if sent != received or sent < guests * 0.99:
        sys.exit(
            f"{workers} worker(s): {sent} of {guests} sent, {received} received; see the send log"
        )
    if sent < guests:
        skipped = dict(
            OutboundMessage.objects.exclude(status=Status.SENT)
            .values_list("skip_reason")
            .annotate(n=Count("pk"))
        )
        print(f"  ({guests - sent} not sent: {skipped})", flush=True)
    return sent, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guests", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="the provider's answer time (s)"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    url, redis_url, broker = _require()
    ensure_database(url)
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.core.management import call_command

    from tests.fakes._server import RecordedRequest, Response
    from tests.fakes.twilio_api import FakeTwilio
    from tests.scale_out import TWILIO_SID, TWILIO_TOKEN

    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)

    class SlowTwilio(FakeTwilio):
        """The fake Twilio API, answering every request after ``args.latency`` seconds."""

        def route(self, req: RecordedRequest) -> Response:
            response = super().route(req)
            response.delay = max(response.delay, args.latency)
            return response

    environment = {
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
    }
    fake = SlowTwilio(TWILIO_SID, TWILIO_TOKEN).start()
    rates: dict[int, float] = {}
    try:
        print(
            f"{args.guests} SMS per round, provider answering in {args.latency * 1000:.0f} ms, "
            f"{os.cpu_count()} CPUs",
            flush=True,
        )
        for workers in counts:
            sent, elapsed = _round(workers, args.guests, fake, environment)
            rates[workers] = sent / elapsed
            print(
                f"{workers} worker(s): {sent} messages in {elapsed:.1f} s, "
                f"{rates[workers]:.1f} msg/s",
                flush=True,
            )
    finally:
        fake.stop()
    base = rates.get(1)
    if base:
        for workers in counts:
            if workers != 1:
                print(f"scale {workers} workers: {rates[workers] / base:.1f}x one worker")


if __name__ == "__main__":
    main()
