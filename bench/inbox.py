"""How fast is the inbox list over 10,000 conversations, and does its query count stay flat?

Run against its own PostgreSQL database, named bench… (created and migrated when missing;
its guests and conversations are replaced when they are not the expected size):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_inbox .venv/bin/python bench/inbox.py \
        [--conversations 10000] [--rounds 21] [--warmup 3]

What is seeded: N guests, each with a stay, one conversation and three messages of theirs
(30,000 inbound rows for N = 10,000); a third of the conversations are closed, a quarter
assigned to the front-desk user timed here, and that user has read half of them.

Each round requests the inbox page as a signed-in front-desk user through Django's test
client (URL routing, middleware, permission, the selector, the template — the server's whole
time, no network) for each tab and for three searches, and the header's unread badge. The
baseline is the list's own SQL (the page's first 50 rows) run alone through a cursor, in the
same process: the ratio says what Django and the template add. The same page is then
measured over a tenth of the conversations: its query count must not change.

Last lines, one per view:

    open            14.1 ms  (  5 queries)  ratio 3.10x vs its SQL alone  target 200 ms: ok
"""

# Django and the apps are imported inside functions: they need the settings, which main()
# configures (DATABASE_URL, django.setup()) only after checking the database.
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")
os.environ.setdefault("DEBUG", "0")

from bench.send import ensure_database  # noqa: E402

TARGET_MS = 200.0
VIEWS = {
    "open": {"tab": "open"},
    "mine": {"tab": "mine"},
    "unassigned": {"tab": "unassigned"},
    "closed": {"tab": "closed"},
    "search name": {"q": "Guest00042"},
    "search room": {"q": "0042"},
    "search text": {"q": "towels"},
}


def seed(count: int, desk: Any) -> None:
    """Replace the guests, stays, messages and conversations with ``count`` of each kind."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from channels_out.models import ChannelAccount, InboundMessage
    from guests.models import BoardType, Guest, Reservation, RoomType
    from interfaces.inbox.models import Conversation, ConversationRead

    if Conversation.objects.count() == count and InboundMessage.objects.count() == 3 * count:
        return
    started = time.perf_counter()
    with transaction.atomic():
        Conversation.objects.all().delete()
        InboundMessage.objects.all().delete()
        Reservation.objects.all().delete()
        Guest.objects.all().delete()
        account, _ = ChannelAccount.objects.get_or_create(
            name="Bench WhatsApp",
            defaults={"channel": "whatsapp", "backend": "locmem", "sender": "+905320000001"},
        )
        room, _ = RoomType.objects.get_or_create(code="BN", defaults={"name": "Bench room"})
        board, _ = BoardType.objects.get_or_create(code="BB", defaults={"name": "Bed & breakfast"})
        now = timezone.now()
        guests = Guest.objects.bulk_create(
            Guest(
                first_name=f"Guest{n:05d}",
                last_name="Bench",
                phone=f"+90532{n:07d}",
                phone_valid=True,
                language=("tr", "en", "de", "ru")[n % 4],
            )
            for n in range(count)
        )
        today = timezone.localdate()
        Reservation.objects.bulk_create(
            Reservation(
                booker=g,
                arrival=today,
                departure=today + dt.timedelta(days=3),
                nights=3,
                room_type=room,
                board_type=board,
                room_number=f"{n:04d}",
            )
            for n, g in enumerate(guests)
        )
        bodies = ("Is the spa open?", "Can we have more towels?", "Thanks, see you soon")
        InboundMessage.objects.bulk_create(
            InboundMessage(
                account=account,
                channel="whatsapp",
                provider_message_id=f"B{n}-{k}",
                from_number=g.phone,
                guest=g,
                body=bodies[(n + k) % 3],
                sent_at=now - dt.timedelta(minutes=n * 3 + k),
            )
            for n, g in enumerate(guests)
            for k in range(3)
        )
        conversations = Conversation.objects.bulk_create(
            Conversation(
                guest=g,
                address=g.phone,
                channel="whatsapp",
                account=account,
                status="closed" if n % 3 == 0 else "open",
                assigned_to=desk if n % 4 == 0 else None,
                last_activity_at=now - dt.timedelta(minutes=n * 3),
                last_inbound_at=now - dt.timedelta(minutes=n * 3),
                last_whatsapp_at=now - dt.timedelta(minutes=n * 3),
                preview=bodies[n % 3],
            )
            for n, g in enumerate(guests)
        )
        ConversationRead.objects.filter(user=desk).delete()
        ConversationRead.objects.bulk_create(
            ConversationRead(conversation=c, user=desk, read_at=now)
            for n, c in enumerate(conversations)
            if n % 2 == 0
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {count} conversations in {time.perf_counter() - started:.1f} s")


def timed(run: Callable[[], Any], rounds: int, warmup: int) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or "bench" not in urlsplit(url).path:
        sys.exit(
            "bench/inbox.py replaces the guests of its database: run it on PostgreSQL, on a "
            "database named bench…:\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_inbox "
            ".venv/bin/python bench/inbox.py"
        )
    ensure_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from interfaces.inbox.selectors import conversation_list
    from interfaces.staff.roles import sync_roles

    call_command("migrate", verbosity=0)
    sync_roles()
    desk, _ = get_user_model().objects.get_or_create(username="bench-desk")
    desk.groups.add(Group.objects.get(name="Front desk"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(desk)
    inbox, badge = reverse("inbox:list"), reverse("inbox:badge")

    def page(params: dict[str, str]) -> Callable[[], None]:
        def get() -> None:
            answer = client.get(inbox, params)
            assert answer.status_code == 200, answer.status_code

        return get

    def queries(run: Callable[[], None]) -> int:
        with CaptureQueriesContext(connection) as captured:
            run()
        return len(captured)

    small = max(args.conversations // 10, 100)
    seed(small, desk)
    few = {name: queries(page(params)) for name, params in VIEWS.items()}
    few["badge"] = queries(lambda: client.get(badge))

    seed(args.conversations, desk)
    results = []
    for name, params in VIEWS.items():
        rows = conversation_list(user=desk, tab=params.get("tab", "open"), q=params.get("q", ""))
        sql, sql_params = rows[:50].query.sql_with_params()

        def raw(sql: str = sql, sql_params: Any = sql_params) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, sql_params)
                cursor.fetchall()

        ours = timed(page(params), args.rounds, args.warmup)
        alone = timed(raw, args.rounds, args.warmup)
        count = queries(page(params))
        assert count == few[name], f"{name}: {few[name]} queries for {small}, {count} for N"
        results.append((name, ours, count, ours / alone))
    ours = timed(lambda: client.get(badge), args.rounds, args.warmup)
    count = queries(lambda: client.get(badge))
    assert count == few["badge"]
    results.append(("badge", ours, count, 0.0))

    print(f"\n{args.conversations} conversations, median of {args.rounds} rounds (server time):")
    for name, ms, count, ratio in results:
        verdict = "ok" if ms < TARGET_MS else "TOO SLOW"
        against = f"ratio {ratio:5.2f}x vs its SQL alone" if ratio else " " * 27
        print(
            f"{name:<14} {ms:7.1f} ms  ({count:2d} queries, as for {small})  {against}  "
            f"target {TARGET_MS:.0f} ms: {verdict}"
        )


if __name__ == "__main__":
    main()
