"""How fast does a message go through the whole send path, against the provider library alone?

Run against its own PostgreSQL database, named bench… (created when missing; its send log
and ledger are emptied at the start of each run):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_send .venv/bin/python bench/send.py \
        [--messages 500] [--rounds 5] [--warmup 1]

Two local peers stand in for the providers: the fake Twilio API (tests/fakes/twilio_api.py)
and an aiosmtpd sink (tests/fakes/smtp_server.py). For each channel, each round times

- ours: ``message_send_many`` of N requests (one transaction: log rows, consent, price,
  credit reservation) followed by ``channels_out.dispatch.deliver`` over the ids in chunks
  of 200, in this process as a worker would run it (claim, pacing, backend, outcome, credit
  post) — Celery is left out, the hand-off after commit is replaced by a no-op;
- raw: the same N messages sent directly — ``twilio.rest.Client.messages.create`` N times,
  or ``smtplib`` over one connection.

Rounds alternate which goes first; the medians decide. The last two lines are the result:

    sms: 850 msg/s, ratio 0.42x vs raw twilio client
    email: 400 msg/s, ratio 0.61x vs raw smtplib

(msg/s of our path; ratio = our rate / the raw rate, so 1.00x would mean no overhead.)
"""

# Django and the apps are imported inside functions: they need the settings, which main()
# configures (DATABASE_URL, django.setup()) only after checking the database.
from __future__ import annotations

import argparse
import logging
import os
import smtplib
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from benchdb import ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")
# Under DEBUG Django keeps every query in memory; a benchmark measures the production setting.
os.environ.setdefault("DEBUG", "0")

TWILIO_SID = "AC" + "b" * 32
TWILIO_TOKEN = "bench-auth-token"
SMS_SENDER = "+905320000000"
MAIL_SENDER = "reservations@hotel.example"
SMS_TEXT = "Your room 214 is ready. Breakfast is served until 10:30. See you soon!"
MAIL_SUBJECT = "Your stay at Lykia Bay"
MAIL_TEXT = "Dear guest,\n\nyour room is ready; breakfast is served until 10:30.\n\nSee you soon,\nLykia Bay\n"
TARGETS = {"sms": 0.3, "email": 0.5}


def prepare(count: int, *, twilio_url: str, smtp_port: int) -> tuple[Any, Any, list[Any]]:
    """Empty the send log and ledger, set up both accounts, ``count`` guests, credits, no quiet hours."""
    from django.db import connection

    from channels_out.ledger import credits_add
    from channels_out.models import ChannelAccount, CreditBalance, MessagingPolicy
    from guests.models import Guest

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE channels_out_ledgerentry, channels_out_deliveryevent, channels_out_outboundmessage CASCADE"
        )
    # The balance is the sum of the ledger, which is now empty.
    CreditBalance.objects.update_or_create(pk=1, defaults={"available": 0, "reserved": 0})
    policy = MessagingPolicy.load()
    policy.quiet_start_service = policy.quiet_end_service = None
    policy.quiet_start_marketing = policy.quiet_end_marketing = None
    policy.save()

    # rate_per_second is the highest the field holds: pacing must not be what is measured.
    sms, _ = ChannelAccount.objects.update_or_create(
        name="bench: Twilio SMS",
        defaults={
            "channel": "sms",
            "backend": "twilio_sms",
            "sender": SMS_SENDER,
            "account_id": TWILIO_SID,
            "secret": TWILIO_TOKEN,
            "api_base_url": twilio_url,
            "rate_per_second": Decimal("99999"),
            "timeout_seconds": 10,
            "is_active": True,
        },
    )
    email, _ = ChannelAccount.objects.update_or_create(
        name="bench: SMTP",
        defaults={
            "channel": "email",
            "backend": "smtp",
            "sender": MAIL_SENDER,
            "sender_name": "Lykia Bay",
            "host": "127.0.0.1",
            "port": smtp_port,
            "use_tls": False,
            "use_ssl": False,
            "username": "",
            "secret": "",
            "rate_per_second": Decimal("99999"),
            "timeout_seconds": 10,
            "is_active": True,
        },
    )

    guests = list(Guest.objects.filter(last_name="Sendbench").order_by("pk")[:count])
    if len(guests) < count:
        start = len(guests)
        Guest.objects.bulk_create(
            Guest(
                first_name=f"Guest{i}",
                last_name="Sendbench",
                email=f"guest{i}@bench.example",
                phone=f"+90532{i:07d}",
                phone_valid=True,
                language="en",
                nationality="GB",
            )
            for i in range(start, count)
        )
        guests = list(Guest.objects.filter(last_name="Sendbench").order_by("pk")[:count])
    credits_add(amount=Decimal(10_000_000), key=f"bench:{uuid.uuid4().hex}", note="benchmark")
    return sms, email, guests


def our_path(channel: str, account: Any, guests: list[Any], tag: str) -> Callable[[], None]:
    """One round of our path: queue N in one transaction, then deliver them in chunks of 200."""
    from channels_out import dispatch
    from channels_out.services import MessageRequest, Step, message_send_many

    if channel == "sms":
        step = Step(channel="sms", account=account, text=SMS_TEXT)
    else:
        step = Step(channel="email", account=account, subject=MAIL_SUBJECT, text=MAIL_TEXT)
    requests = [
        MessageRequest(
            steps=[step], guest=guest, dedupe_key=f"bench:{tag}:{guest.pk}", source="bench"
        )
        for guest in guests
    ]

    def run() -> None:
        ids = [m.pk for m in message_send_many(requests)]
        for start in range(0, len(ids), dispatch.CHUNK):
            dispatch.deliver(ids[start : start + dispatch.CHUNK])

    return run


def check_sent(channel: str, tag: str, count: int) -> None:
    """Stop unless every message of the round went out (a fast failure would be no result)."""
    from channels_out.models import OutboundMessage, Status

    rows = OutboundMessage.objects.filter(dedupe_key__startswith=f"bench:{tag}:")
    sent = rows.filter(status=Status.SENT).count()
    if sent != count:
        sys.exit(
            f"{channel}: {sent} of {count} messages were sent in round {tag}; look at the send log"
        )


def raw_twilio(client: Any, guests: list[Any], callback: str) -> Callable[[], None]:
    def run() -> None:
        for guest in guests:
            client.messages.create(
                to=guest.phone, from_=SMS_SENDER, body=SMS_TEXT, status_callback=callback
            )

    return run


def raw_smtplib(port: int, guests: list[Any]) -> Callable[[], None]:
    def run() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            for guest in guests:
                email = EmailMessage()
                email["Subject"] = MAIL_SUBJECT
                email["From"] = formataddr(("Lykia Bay", MAIL_SENDER))
                email["To"] = guest.email
                email["Message-ID"] = make_msgid(domain="hotel.example")
                email.set_content(MAIL_TEXT)
                smtp.send_message(email)

    return run


def queries_per_message(run: Callable[[], None], count: int) -> float:
    """Run ``run`` once and return the SQL statements it executed per message (savepoints count, commits not)."""
    from django.db import connection

    executed = 0

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal executed
        executed += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        run()
    return executed / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages", type=int, default=500, help="messages per round and channel (default 500)"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="timed rounds; the median counts (default 5)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "bench/send.py measures the send path on PostgreSQL only (SQLite serialises every writer and "
            "would measure its file lock). Run it as:\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_send .venv/bin/python bench/send.py"
        )
    if "bench" not in urlsplit(url).path:
        sys.exit(
            "bench/send.py empties the send log and ledger of its database: give it one named bench…, "
            "e.g. postgres://postgres@127.0.0.1:5432/bench_send"
        )
    ensure_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from channels_out.backends.twilio_common import twilio_client_for
    from channels_out.tasks import deliver_messages
    from tests.fakes.smtp_server import running_smtp_server
    from tests.fakes.twilio_api import running_fake_twilio

    call_command("migrate", verbosity=0)
    # aiosmtpd logs every command and the twilio library every request, at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    count = args.messages
    with ExitStack() as stack:
        fake = stack.enter_context(running_fake_twilio(TWILIO_SID, TWILIO_TOKEN))
        sink = stack.enter_context(running_smtp_server())
        # The worker is this process: the after-commit hand-off to Celery does nothing here.
        stack.enter_context(mock.patch.object(deliver_messages, "delay", lambda ids: None))
        sms_account, mail_account, guests = prepare(
            count, twilio_url=fake.base_url, smtp_port=sink.port
        )
        client = twilio_client_for(fake.base_url, TWILIO_SID, TWILIO_TOKEN, timeout=10)
        callback = f"{settings.PUBLIC_BASE_URL}/hooks/{sms_account.pk}/status/?m=0"
        print(
            f"{count} messages a round, {args.rounds} rounds (+{args.warmup} warm-up), "
            f"throttle: {'Redis' if settings.REDIS_URL else 'in-process'}"
        )

        paths = {
            "sms": (sms_account, "raw twilio client", lambda: raw_twilio(client, guests, callback)),
            "email": (mail_account, "raw smtplib", lambda: raw_smtplib(sink.port, guests)),
        }
        results: dict[str, tuple[float, float]] = {}
        for channel, (account, raw_name, make_raw) in paths.items():
            timings: dict[str, list[float]] = {"ours": [], "raw": []}
            raw = make_raw()
            # Counted in a round of its own, untimed: capturing queries slows it down.
            per_message = queries_per_message(
                our_path(channel, account, guests, tag=f"{channel}:q"), count
            )
            check_sent(channel, f"{channel}:q", count)
            print(f"{channel}: {per_message:.1f} SQL statements per message through our path")
            for round_ in range(args.warmup + args.rounds):
                tag = f"{channel}:{round_}"
                ours = our_path(channel, account, guests, tag=tag)
                order = (
                    [("ours", ours), ("raw", raw)] if round_ % 2 else [("raw", raw), ("ours", ours)]
                )
                for name, run in order:
                    started = time.perf_counter()
                    run()
                    elapsed = time.perf_counter() - started
                    if round_ >= args.warmup:
                        timings[name].append(elapsed)
                check_sent(channel, tag, count)
                if round_ >= args.warmup:
                    print(
                        f"{channel} round {round_ - args.warmup + 1}: ours {count / timings['ours'][-1]:.0f} msg/s, "
                        f"raw {count / timings['raw'][-1]:.0f} msg/s"
                    )
            ours_median, raw_median = (
                statistics.median(timings["ours"]),
                statistics.median(timings["raw"]),
            )
            results[channel] = (count / ours_median, raw_median / ours_median)
            print(
                f"{channel}: {raw_name} {count / raw_median:.0f} msg/s (median); "
                f"target ≥ {TARGETS[channel]}x {'met' if raw_median / ours_median >= TARGETS[channel] else 'MISSED'}"
            )
        delivered = (len(fake.messages), len(sink.received))
    expected = count * (1 + 2 * (args.warmup + args.rounds))
    if delivered != (expected, expected):
        sys.exit(
            f"the peers received {delivered[0]} SMS and {delivered[1]} e-mails, expected {expected} each"
        )
    for channel, (rate, ratio) in results.items():
        print(f"{channel}: {rate:.0f} msg/s, ratio {ratio:.2f}x vs {paths[channel][1]}")


if __name__ == "__main__":
    main()
