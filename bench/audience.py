"""How fast is a campaign audience on a hotel-chain-sized database, against hand-written SQL?

Run against its own PostgreSQL database (created when missing; its guest tables are wiped
and refilled when they do not hold the expected volume):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/audience.py [--proposed]

Seeds 1,000,000 guests, 3,000,000 reservations, ~1,000,000 consent statements and a few
thousand greylist entries with ``INSERT … SELECT generate_series`` (indexes dropped during
the load and rebuilt after), runs VACUUM ANALYZE, then times ``audience(...).count()`` for
three campaigns against a hand-written query for the same audience, in alternating rounds:
a pre-arrival campaign with stay, guest and consent filters, the same with catch-up, and a
birthday-next-month marketing campaign over all guests. Each campaign's medians are printed;
the last line is their sum (one tick counting all three) and its ratio to the hand-written
sum. ``--proposed`` first applies the indexes and setting bench/README.md proposes.
"""

# Django and the apps are imported inside functions: they need the settings, which main()
# configures (DATABASE_URL, django.setup()) only after checking the database.
from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from benchdb import ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")

GUESTS = 1_000_000
RESERVATIONS = 3_000_000
DAY = dt.date(2025, 6, 15)  # the business date of the benchmark; arrivals span 2024–2026
ROUNDS = 21
WARMUP = 3

# What bench/README.md proposes for the models and the connection; ``--proposed`` applies it
# to this database (the indexes stay until dropped by hand) and to this session.
PROPOSED = [
    # Guest.Meta.indexes: models.Index(ExtractMonth("birth_date"), ExtractDay("birth_date"), name="guest_birthday_idx")
    "CREATE INDEX IF NOT EXISTS guest_birthday_idx ON guests_guest "
    '((EXTRACT(MONTH FROM "birth_date")), (EXTRACT(DAY FROM "birth_date")))',
    # ConsentRecord.Meta.indexes: consent_current_idx with include=("granted",)
    "CREATE INDEX IF NOT EXISTS consent_current_covering_idx ON guests_consentrecord "
    "(guest_id, purpose, channel, recorded_at DESC, id DESC) INCLUDE (granted)",
    # DATABASES["default"]["OPTIONS"] = {"options": "-c jit=off"}
    "SET jit = off",
]


def reference_ids() -> dict[str, list[int]]:
    from guests.models import (
        Agency,
        BoardType,
        LoyaltyTier,
        MarketSegment,
        RoomType,
        SourceChannel,
        StayType,
    )

    lists = {
        "room": (RoomType, ["STD", "DLX", "SUI", "FAM", "ECO"]),
        "board": (BoardType, ["RO", "BB", "HB", "FB", "AI"]),
        "agency": (Agency, [f"AG{n:02d}" for n in range(20)]),
        "segment": (MarketSegment, ["LEI", "COR", "GRP", "MICE", "GOV", "OTH"]),
        "stay": (StayType, ["LEISURE", "BUSINESS", "HONEYMOON", "GROUP"]),
        "channel": (SourceChannel, ["DIRECT", "WEB", "BOOKING", "EXPEDIA", "PHONE"]),
        "tier": (LoyaltyTier, ["SILVER", "GOLD", "PLATINUM"]),
    }
    ids: dict[str, list[int]] = {}
    for key, (model, codes) in lists.items():
        ids[key] = [
            model.objects.get_or_create(code=code, defaults={"name": code.title()})[0].pk
            for code in codes
        ]
    return ids


def _array(values: list[int]) -> str:
    return "ARRAY[" + ",".join(str(v) for v in values) + "]"


def seed(cursor, ids: dict[str, list[int]]) -> None:
    """Fill guests, reservations, consents and greylist entries with generated rows."""
    started = time.perf_counter()
    cursor.execute(
        "TRUNCATE guests_guest, guests_reservation, guests_consentrecord, guests_greylistentry RESTART IDENTITY CASCADE"
    )
    tables = ("guests_guest", "guests_reservation", "guests_consentrecord", "guests_greylistentry")
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = ANY(%s) AND NOT EXISTS (
             SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    # Django's foreign keys are deferred; checking them per statement lets the indexes be rebuilt in this transaction.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET synchronous_commit = off")
    cursor.execute("SET maintenance_work_mem = '512MB'")
    cursor.execute("SELECT setseed(0.4242)")
    cursor.execute(
        f"""
        INSERT INTO guests_guest (first_name, last_name, email, email_verified, phone, phone_valid, language,
            nationality, birth_date, gender, vip_level, loyalty_tier_id, loyalty_number, notes, preferences,
            allergens, warning_note, outstanding_balance, stay_count, source, created_at, updated_at)
        SELECT 'Guest' || i, 'Bench', 'guest' || i || '@example.com', false, '+9053' || lpad(i::text, 8, '0'), true,
            (ARRAY['en','tr','de','ru','en','uk','pl','nl'])[1 + i % 8],
            CASE WHEN n < 0.40 THEN 'TR' WHEN n < 0.55 THEN 'DE' WHEN n < 0.65 THEN 'GB' WHEN n < 0.80 THEN 'RU'
                 WHEN n < 0.98 THEN (ARRAY['NL','FR','PL','UA','IT'])[1 + i % 5] ELSE '' END,
            CASE WHEN i % 20 = 0 THEN NULL ELSE date '1940-01-01' + (random() * 27000)::int END,
            (ARRAY['female','male','','other'])[1 + (random() * 3.2)::int % 4],
            CASE WHEN v < 0.90 THEN 0 WHEN v < 0.97 THEN 1 WHEN v < 0.99 THEN 2 ELSE 3 END,
            CASE WHEN l < 0.25 THEN ({_array(ids["tier"])})[1 + (l * 12)::int % 3] END,
            '', '', '', '', '',
            CASE WHEN random() < 0.03 THEN round((random() * 2000)::numeric, 2) ELSE 0 END,
            (random() * random() * 6)::int, 'import', now(), now()
        FROM (SELECT i, random() AS n, random() AS v, random() AS l FROM generate_series(1, {GUESTS}) i) g
        """
    )
    day = f"date '{DAY.isoformat()}'"
    cursor.execute(
        f"""
        INSERT INTO guests_reservation (booker_id, status, arrival, departure, nights, room_type_id, room_number,
            nightly_rate, total_amount, currency, agency_id, market_segment_id, board_type_id, stay_type_id,
            source_channel_id, external_ref, adults, children, send_notifications, notes, created_at, updated_at,
            checked_in_at, checked_out_at, cancelled_at, cancel_reason)
        SELECT booker, CASE
                WHEN s < 0.06 THEN 'cancelled'
                WHEN arrival > {day} THEN 'confirmed'
                WHEN arrival + nights < {day} THEN CASE WHEN s < 0.09 THEN 'no_show' ELSE 'checked_out' END
                ELSE 'checked_in' END,
            arrival, arrival + nights, nights,
            ({_array(ids["room"])})[1 + i % 5], '', rate, rate * nights, 'EUR',
            CASE WHEN i % 2 = 0 THEN ({_array(ids["agency"])})[1 + i % 20] END,
            ({_array(ids["segment"])})[1 + i % 6], ({_array(ids["board"])})[1 + i % 5],
            ({_array(ids["stay"])})[1 + i % 4], ({_array(ids["channel"])})[1 + i % 5],
            '', 2, i % 3, random() > 0.03, '', now(), now(), NULL, NULL, NULL, ''
        FROM (
            SELECT i, 1 + (random() * ({GUESTS} - 1))::int AS booker,
                   date '2024-01-01' + (random() * 1095)::int AS arrival,
                   1 + (random() * random() * 14)::int AS nights,
                   round((40 + random() * 360)::numeric, 2) AS rate, random() AS s
            FROM generate_series(1, {RESERVATIONS}) i
        ) r
        """
    )
    # Data-processing consent for ~70 % (a few later withdrawn), marketing SMS opt-ins for ~30 %.
    cursor.execute(
        f"""
        INSERT INTO guests_consentrecord (guest_id, purpose, channel, granted, source, wording_version, note,
            recorded_at, recorded_by_id)
        SELECT i, 'data_processing', '', true, 'booking', '2024-01', '', now() - interval '400 days', NULL::integer
        FROM generate_series(1, {GUESTS}) i WHERE random() < 0.70
        UNION ALL
        SELECT i, 'data_processing', '', false, 'guest_portal', '2024-01', '', now() - interval '10 days', NULL
        FROM generate_series(1, {GUESTS}) i WHERE random() < 0.04
        UNION ALL
        SELECT i, 'marketing', 'sms', true, 'booking', '2024-01', '', now() - interval '300 days', NULL
        FROM generate_series(1, {GUESTS}) i WHERE random() < 0.30
        """
    )
    cursor.execute(
        f"""
        INSERT INTO guests_greylistentry (guest_id, reason, expires_at, created_at, created_by_id, lifted_at,
            lifted_by_id, lift_reason)
        SELECT i, 'bench', CASE WHEN random() < 0.3 THEN now() + interval '30 days' END, now(), NULL,
            CASE WHEN random() < 0.2 THEN now() END, NULL, ''
        FROM generate_series(1, {GUESTS}) i WHERE random() < 0.005
        """
    )
    print(
        f"rows loaded in {time.perf_counter() - started:.0f} s, rebuilding {len(indexes)} indexes"
    )
    for _, definition in indexes:
        cursor.execute(definition)
    print(f"seeded in {time.perf_counter() - started:.0f} s")


# Conditions every reservation scenario shares, by hand.
_STAY_FILTERS = """
  AND r.status NOT IN ('cancelled', 'no_show')
  AND r.send_notifications
  AND r.nights >= 5
  AND r.nightly_rate BETWEEN 80 AND 300
  AND g.nationality <> 'TR'
  AND g.loyalty_tier_id IS NOT NULL
"""
_LATEST = """(SELECT c.granted FROM guests_consentrecord c
       WHERE c.guest_id = g.id AND c.purpose = '{purpose}' AND c.channel = '{channel}'
       ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1)"""
_NOT_GREYLISTED = """
  AND NOT EXISTS (SELECT 1 FROM guests_greylistentry e
                  WHERE e.guest_id = g.id AND e.lifted_at IS NULL AND (e.expires_at IS NULL OR e.expires_at > %(at)s))
"""
_PRE_ARRIVAL = {
    "source": "reservations",
    "trigger": "daily",
    "timing": "days_before_arrival",
    "offset": 3,
    "excluded_nationalities": ["TR"],
    "nights_min": 5,
    "rate_min": Decimal("80"),
    "rate_max": Decimal("300"),
    "loyalty_members_only": True,
    "require_data_consent": True,
    "exclude_greylisted": True,
}


@dataclass
class Scenario:
    """One campaign and the SQL a person would write for the same audience."""

    name: str
    fields: dict[str, Any]
    hand_sql: str
    steps: tuple[str, ...] = ()
    operator: bool = False
    orm: list[float] = field(default_factory=list)
    orm_sql: list[float] = field(default_factory=list)  # the SQL the ORM wrote, run without the ORM
    hand: list[float] = field(default_factory=list)


SCENARIOS = [
    Scenario(
        "3 days before arrival, 5+ nights, rate 80-300, not TR, loyalty, KVKK, not greylisted",
        _PRE_ARRIVAL,
        "SELECT count(*) FROM guests_reservation r JOIN guests_guest g ON g.id = r.booker_id "
        "WHERE r.arrival = %(day)s + 3"
        + _STAY_FILTERS
        + "  AND "
        + _LATEST.format(purpose="data_processing", channel="")
        + _NOT_GREYLISTED,
    ),
    Scenario(
        "the same with catch-up (arrivals today to 3 days ahead, not yet arrived)",
        {**_PRE_ARRIVAL, "catch_up": True},
        "SELECT count(*) FROM guests_reservation r JOIN guests_guest g ON g.id = r.booker_id "
        "WHERE r.arrival BETWEEN %(day)s AND %(day)s + 3 AND r.status = 'confirmed'"
        + _STAY_FILTERS
        + "  AND "
        + _LATEST.format(purpose="data_processing", channel="")
        + _NOT_GREYLISTED,
    ),
    Scenario(
        "guests with a birthday next month, not TR, KVKK and marketing SMS opt-in, not greylisted",
        {
            "source": "guests",
            "trigger": "operator",
            "purpose": "marketing",
            "birthday": "next_month",
            "excluded_nationalities": ["TR"],
            "require_data_consent": True,
            "require_channel_consent": True,
            "exclude_greylisted": True,
        },
        "SELECT count(*) FROM guests_guest g "
        "WHERE EXTRACT(MONTH FROM g.birth_date) = EXTRACT(MONTH FROM %(day)s + interval '1 month') "
        "AND g.nationality <> 'TR' "
        "AND "
        + _LATEST.format(purpose="data_processing", channel="")
        + " AND "
        + _LATEST.format(purpose="marketing", channel="sms")
        + _NOT_GREYLISTED,
        steps=("sms",),
        operator=True,
    ),
]


def build_campaign(scenario: Scenario) -> Any:
    """Create or update the scenario's campaign and load it with its filters, as a tick would."""
    from campaigns.audiences import AUDIENCE_PREFETCH
    from campaigns.models import Campaign, CampaignStep

    # Updated in place, not deleted: a delete would cascade into tables this benchmark does not need.
    campaign, _ = Campaign.objects.update_or_create(
        name=f"bench: {scenario.name}"[:120], defaults=scenario.fields
    )
    for position, channel in enumerate(scenario.steps):
        CampaignStep.objects.update_or_create(
            campaign=campaign, position=position, defaults={"channel": channel}
        )
    return Campaign.objects.prefetch_related(*AUDIENCE_PREFETCH).get(pk=campaign.pk)


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench (PostgreSQL only).")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from campaigns.audiences import audience
    from campaigns.occurrences import Occurrence
    from guests.models import ConsentRecord, Guest, Reservation

    call_command("migrate", verbosity=0)
    ids = reference_ids()
    proposed = "--proposed" in sys.argv[1:]
    with connection.cursor() as cursor:
        seeded = (
            Guest.objects.count(),
            Reservation.objects.count(),
            ConsentRecord.objects.exists(),
        )
        if seeded != (GUESTS, RESERVATIONS, True):
            with transaction.atomic():  # a failed load leaves nothing half done (indexes included)
                seed(cursor, ids)
            cursor.execute("VACUUM ANALYZE")
        else:
            print("reusing the seeded data")
        for statement in PROPOSED if proposed else []:
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    print("with the proposed indexes and jit = off" if proposed else "with the schema as migrated")

    at = timezone.now()
    params = {"day": DAY, "at": at}
    runs = []
    for scenario in SCENARIOS:
        campaign = build_campaign(scenario)
        occurrence = (
            Occurrence.operator(at, business_date=DAY)
            if scenario.operator
            else Occurrence.daily(DAY, at=at)
        )

        def orm(campaign: Any = campaign, occurrence: Any = occurrence) -> int:
            return audience(campaign, occurrence).count()

        def raw(sql: str, sql_params: dict[str, Any] | None = None) -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql, sql_params)
                return cursor.fetchone()[0]

        with CaptureQueriesContext(connection) as captured:
            got = orm()
        expected = raw(scenario.hand_sql, params)
        if expected != got:
            sys.exit(
                f"{scenario.name}: the audience counts {got}, the hand-written query {expected}; they must agree"
            )
        print(f"{scenario.name}: {got} records")
        contenders = [
            (scenario.orm, orm),
            (scenario.orm_sql, partial(raw, captured.captured_queries[-1]["sql"])),
            (scenario.hand, partial(raw, scenario.hand_sql, params)),
        ]
        runs.append(contenders)

    # One campaign at a time (a big audience would evict a small one's pages between its
    # rounds), rotating which contender goes first so none always finds the cache warmed.
    for contenders in runs:
        for round_ in range(WARMUP + ROUNDS):
            first = round_ % len(contenders)
            for times, run in contenders[first:] + contenders[:first]:
                started = time.perf_counter()
                run()
                if round_ >= WARMUP:
                    times.append(time.perf_counter() - started)

    total_orm = total_hand = 0.0
    print(f"medians of {ROUNDS} rotating rounds:  audience().count()  (its SQL alone)  hand SQL")
    for scenario in SCENARIOS:
        orm_median, hand_median = statistics.median(scenario.orm), statistics.median(scenario.hand)
        sql_median = statistics.median(scenario.orm_sql)
        total_orm += orm_median
        total_hand += hand_median
        print(
            f"  {orm_median * 1000:7.1f} ms ({sql_median * 1000:7.1f} ms) vs {hand_median * 1000:7.1f} ms: "
            f"{orm_median / hand_median:.2f}x ({sql_median / hand_median:.2f}x)  {scenario.name}"
        )
    print(f"one tick counting all {len(SCENARIOS)} audiences:")
    print(f"audience count: {total_orm:.2f} s, ratio {total_orm / total_hand:.2f}x vs hand SQL")


if __name__ == "__main__":
    main()
