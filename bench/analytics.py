"""How fast do the managers' dashboard and a campaign's analytics page render on 1M messages?

Run against its own PostgreSQL database (created and migrated when missing; seeded once,
later runs reuse the data):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_analytics .venv/bin/python bench/analytics.py \
        [--messages 1000000] [--rounds 11]

Seeded with ``INSERT … SELECT generate_series`` from one template row per table: 20,000
guests, 40 campaigns with 10 runs each, the messages spread evenly over the last 365 days
(60 % e-mail, 30 % SMS, 10 % Viber; 90 % sent, 60 % of those delivered, 3 % bounced; a fifth
of the e-mails opened, a twentieth clicked) and 100,000 reservations over the same year.

Each round times, through Django's test client as a signed-in manager:

- ``/analytics/`` — the dashboard of the last 30 days (about 82,000 messages);
- ``/analytics/campaigns/<id>/`` — the page of one campaign (25,000 messages, all its runs);
- baseline: one ``SELECT count(*)`` over the same 30 days of messages, the least a
  dashboard over them could cost.

The last line prints the medians and the dashboard's ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from benchdb import ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")
os.environ.setdefault("DEBUG", "0")

GUESTS = 20_000
CAMPAIGNS = 40
RUNS_PER_CAMPAIGN = 10
RESERVATIONS = 100_000


def _copy(model, template_pk: int, count: int, overrides: dict[str, str]) -> None:
    """Insert ``count`` copies of the template row, with SQL expressions of ``n`` for some columns."""
    from django.db import connection

    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if f.column != "id"]
    # "%" is psycopg2's placeholder mark: the modulo of the expressions is written twice.
    values = [overrides.get(column, f't."{column}"').replace("%", "%%") for column in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ({names}) SELECT {", ".join(values)} '
            f'FROM "{table}" t CROSS JOIN generate_series(1, %s) AS n WHERE t.id = %s',
            [count, template_pk],
        )


def seed(messages: int) -> None:
    from decimal import Decimal

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from campaigns.models import Campaign, CampaignRun, Source, Trigger
    from channels_out.models import ChannelAccount, OutboundMessage
    from guests.models import Guest, Reservation
    from tests.factories import ReservationFactory

    if OutboundMessage.objects.count() == messages and Reservation.objects.count() == RESERVATIONS:
        return
    print(f"seeding {messages:,} messages …", flush=True)
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE channels_out_engagement, channels_out_deliveryevent, "
                "channels_out_ledgerentry, channels_out_outboundmessage, campaigns_campaignrun, "
                "guests_reservation, guests_consentrecord CASCADE"
            )
        email = ChannelAccount.objects.get_or_create(
            name="Bench mail", defaults={"channel": "email", "backend": "locmem", "sender": "a@b.c"}
        )[0]
        template_guest = Guest.objects.create(first_name="Bench", last_name="Guest", email="g@x.y")
        _copy(Guest, template_guest.pk, GUESTS - 1, {"email": "'g' || n || '@x.example'"})
        guest_ids = list(Guest.objects.order_by("pk").values_list("pk", flat=True)[:GUESTS])
        low, high = guest_ids[0], guest_ids[-1]
        runs = []
        for c in range(CAMPAIGNS):
            campaign = Campaign.objects.create(
                name=f"Bench campaign {c}",
                purpose="marketing",
                source=Source.GUESTS,
                trigger=Trigger.OPERATOR,
            )
            for r in range(RUNS_PER_CAMPAIGN):
                runs.append(
                    CampaignRun.objects.create(
                        campaign=campaign, trigger=Trigger.OPERATOR, occurrence=f"bench:{c}:{r}"
                    ).pk
                )
        run_type = ContentType.objects.get_for_model(CampaignRun).pk
        template = OutboundMessage.objects.create(
            dedupe_key="bench:template",
            channel="email",
            purpose="marketing",
            account=email,
            backend="locmem",
            to="g@x.y",
            guest=template_guest,
            status="sent",
            origin_type_id=run_type,
            origin_id=runs[0],
            language="en",
            subject="Bench",
        )
        spread = 365 * 86400
        # The n-th row's age: the rows spread evenly over the year.
        age = f"(n::bigint * {spread} / {messages}) * interval '1 second'"
        booked = f"(n::bigint * {spread} / {RESERVATIONS}) * interval '1 second'"
        run_list = "ARRAY[" + ",".join(map(str, runs)) + "]"
        _copy(
            OutboundMessage,
            template.pk,
            messages - 1,
            {
                "dedupe_key": "'bench:' || n",
                "channel": "CASE WHEN n % 10 < 6 THEN 'email' WHEN n % 10 < 9 THEN 'sms' ELSE 'viber' END",
                "guest_id": f"{low} + (n % {high - low + 1})",
                "origin_id": f"({run_list})[1 + (n::bigint * 7919) % {len(runs)}]",
                "language": "CASE WHEN n % 3 = 0 THEN 'de' ELSE 'en' END",
                "status": "CASE WHEN n % 100 < 3 THEN 'undelivered' WHEN n % 100 < 60 THEN 'delivered' "
                "WHEN n % 100 < 90 THEN 'sent' ELSE 'skipped' END",
                "skip_reason": "CASE WHEN n % 100 >= 90 THEN 'no_consent' ELSE '' END",
                "created_at": f"now() - {age}",
                "sent_at": f"CASE WHEN n % 100 < 90 THEN now() - {age} END",
                "opened_at": f"CASE WHEN n % 10 < 6 AND n % 5 = 0 THEN now() - {age} + interval '1 hour' END",
                "clicked_at": f"CASE WHEN n % 10 < 6 AND n % 20 = 0 THEN now() - {age} + interval '2 hours' END",
                "credits": "CASE WHEN n % 10 >= 6 AND n % 100 < 90 THEN 1 ELSE 0 END",
            },
        )
        template_reservation = ReservationFactory(
            booker=template_guest, nightly_rate=Decimal("100")
        )
        _copy(
            Reservation,
            template_reservation.pk,
            RESERVATIONS - 1,
            {
                "booker_id": f"{low} + ((n * 31) % {high - low + 1})",
                "created_at": f"now() - {booked}",
                "external_ref": "''",
            },
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. …/bench_analytics")
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args.messages)
    from campaigns.models import BookingAttribution

    if not BookingAttribution.objects.exists():
        # The seed's INSERT … SELECT makes no model signals: the backfill writes the rows.
        started = time.perf_counter()
        call_command("attribution_rebuild")
        print(f"attribution_rebuild in {time.perf_counter() - started:.0f} s", flush=True)

    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from campaigns.models import Campaign

    user, _ = get_user_model().objects.get_or_create(
        username="bench-manager", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    campaign = Campaign.objects.filter(runs__isnull=False).order_by("-pk").first()
    assert campaign is not None
    since = timezone.now() - dt.timedelta(days=30)

    def dashboard() -> None:
        assert client.get(reverse("analytics:dashboard")).status_code == 200

    def campaign_page() -> None:
        assert client.get(reverse("analytics:campaign", args=[campaign.pk])).status_code == 200

    def baseline() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM channels_out_outboundmessage WHERE created_at >= %s", [since]
            )
            cursor.fetchone()

    contenders = {"dashboard": dashboard, "campaign page": campaign_page, "count(*)": baseline}
    for run in contenders.values():
        run()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(args.rounds):
        order = list(contenders.items())
        order = order[round_ % len(order) :] + order[: round_ % len(order)]
        for name, run in order:
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(
        " · ".join(f"{name} {ms:.0f} ms" for name, ms in medians.items())
        + f" · dashboard / count(*) = {medians['dashboard'] / medians['count(*)']:.1f}x"
    )


if __name__ == "__main__":
    main()
