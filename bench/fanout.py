"""Campaign fan-out: render + enqueue + log rows for N recipients, against a bare baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_fanout .venv/bin/python bench/fanout.py \
        [--recipients 100000] [--rounds 3]

Our path is what a campaign run does for its audience, chunk by chunk, in this process:
`campaigns.services.run_send_chunk` per 500 records — read the chunk through the audience,
choose each guest's language variant, build the sandboxed context, render, and queue through
`channels_out.services.message_send_many` (consent, pricing, credit reservation, bulk insert
of log rows and ledger entries, dispatch enqueued on commit to an in-memory broker).

The baseline is the least any implementation must do: a plain Jinja2 template compiled once
per language, rendered for the same recipients, and a bulk insert of the same rows.

Rounds alternate (ours, baseline, ours, …) on a database emptied of messages between them;
medians are compared. PostgreSQL only; the database may hold other data (the script uses
only its own guests, last name "Benchmark", created on first use), but every round empties
its send log, ledger and campaign runs, so give it a scratch database. The last line reads: `fanout 100000: 9.8 s, ratio 2.1x vs bare render
+ bulk insert` (target ≤ 3×).
"""

# Django and the apps are imported inside functions: they need the settings, which main()
# configures (DATABASE_URL, django.setup()) only after checking the database.
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

from benchdb import ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")

LANGUAGES = ("tr", "en", "de", "ru")
TEXTS = {
    "tr": "Sayın @NAME @SURNAME, {{ hotel.name }} ilkbahar fırsatları sizi bekliyor!",
    "en": "Dear @NAME @SURNAME, spring offers at {{ hotel.name }} are waiting for you!",
    "de": "Liebe(r) @NAME @SURNAME, die Frühlingsangebote im {{ hotel.name }} warten auf Sie!",
    "ru": "Уважаемый(ая) @NAME @SURNAME, весенние предложения {{ hotel.name }} ждут вас!",
}


def _ensure_database(url: str) -> None:
    import dj_database_url

    if dj_database_url.parse(url)["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("bench/fanout.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(url)


def _setup(recipients: int):
    from django.core.management import call_command

    from campaigns.models import Campaign, CampaignStep, MessageVariant, Source, Trigger
    from channels_out.ledger import available_credits, credits_add
    from channels_out.models import ChannelAccount, MessagingPolicy
    from guests.models import Guest

    call_command("migrate", verbosity=0)
    # Only the benchmark's own guests take part: the database may hold others (in other
    # languages, with other numbers), which neither contender may see.
    mine = Guest.objects.filter(last_name="Benchmark")
    have = mine.count()
    if have < recipients:
        print(f"seeding {recipients - have} guests …", flush=True)
        batch = []
        for n in range(have, recipients):
            batch.append(
                Guest(
                    first_name=f"Guest{n}",
                    last_name="Benchmark",
                    phone=f"+90532{n % 10_000_000:07d}",
                    phone_valid=True,
                    language=LANGUAGES[n % 4],
                    nationality="TR",
                )
            )
            if len(batch) == 10_000:
                Guest.objects.bulk_create(batch)
                batch = []
        Guest.objects.bulk_create(batch)
    policy = MessagingPolicy.load()
    policy.quiet_start_service = policy.quiet_end_service = None
    policy.quiet_start_marketing = policy.quiet_end_marketing = None
    policy.save()
    account, _ = ChannelAccount.objects.get_or_create(
        name="bench sms",
        defaults={"channel": "sms", "backend": "locmem", "sender": "BENCH", "is_default": True},
    )
    campaign, created = Campaign.objects.get_or_create(
        name="bench fanout", defaults={"trigger": Trigger.OPERATOR, "source": Source.GUESTS}
    )
    if created:
        CampaignStep.objects.create(campaign=campaign, position=0, channel="sms", account=account)
        for language, text in TEXTS.items():
            MessageVariant.objects.create(campaign=campaign, language=language, text=text)
    if available_credits() < recipients * 10:
        credits_add(amount=Decimal(recipients * 20), key=f"bench:{uuid.uuid4().hex}")
    ids = list(mine.order_by("pk").values_list("pk", flat=True)[:recipients])
    return campaign, account, ids


def empty_send_log() -> None:
    """Empty the send log, delivery events, ledger and campaign runs (a scratch database only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        # A scratch database: the append-only ledger may be emptied here, never in the product.
        cursor.execute(
            "TRUNCATE channels_out_deliveryevent, channels_out_ledgerentry, channels_out_outboundmessage, "
            "campaigns_campaignrun RESTART IDENTITY CASCADE"
        )
        cursor.execute(
            "UPDATE channels_out_creditbalance SET available = available + reserved, reserved = 0"
        )
        cursor.execute("VACUUM ANALYZE channels_out_outboundmessage")


def ours(campaign, ids: list[int]) -> float:
    from campaigns.occurrences import Occurrence
    from campaigns.services import run_open, run_send_chunk
    from campaigns.services.runs import CHUNK_SIZE

    start = time.perf_counter()
    run, _ = run_open(campaign, Occurrence.operator(), trigger="operator")
    for i in range(0, len(ids), CHUNK_SIZE):
        run_send_chunk(run.pk, ids[i : i + CHUNK_SIZE])
    return time.perf_counter() - start


def baseline(account, ids: list[int]) -> float:
    from jinja2 import Environment

    from campaigns.rendering import translate_keywords
    from channels_out.models import OutboundMessage
    from guests.models import Guest

    start = time.perf_counter()
    environment = Environment(autoescape=False)
    templates = {
        language: environment.from_string(translate_keywords(text))
        for language, text in TEXTS.items()
    }
    rows = []
    hotel = {"name": "Hotel Lykia Bay"}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for pk, first, last, language, phone in Guest.objects.filter(pk__in=chunk).values_list(
            "pk", "first_name", "last_name", "language", "phone"
        ):
            text = templates[language].render(
                guest={"first_name": first, "last_name": last}, hotel=hotel
            )
            rows.append(
                OutboundMessage(
                    dedupe_key=f"bare:{pk}",
                    channel="sms",
                    purpose="marketing",
                    account=account,
                    backend="locmem",
                    to=phone,
                    guest_id=pk,
                    body=text,
                    language=language,
                    source="campaign",
                )
            )
        if len(rows) >= 5000:
            OutboundMessage.objects.bulk_create(rows)
            rows = []
    OutboundMessage.objects.bulk_create(rows)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/fanout.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    _ensure_database(url)
    import django

    django.setup()
    from crm_messaging.celery import app

    # Enqueueing is part of the path; delivering is not: tasks go to an in-memory broker.
    app.conf.broker_url = "memory://"
    app.conf.task_always_eager = False

    campaign, account, ids = _setup(args.recipients)
    mine, bare = [], []
    for round_no in range(1, args.rounds + 1):
        empty_send_log()
        mine.append(ours(campaign, ids))
        empty_send_log()
        bare.append(baseline(account, ids))
        print(f"round {round_no}: ours {mine[-1]:.2f} s, bare {bare[-1]:.2f} s", flush=True)
    empty_send_log()
    ours_s, bare_s = statistics.median(mine), statistics.median(bare)
    print(
        f"fanout {len(ids)}: {ours_s:.1f} s, ratio {ours_s / bare_s:.1f}x vs bare render + bulk insert"
    )


if __name__ == "__main__":
    main()
