"""How fast does a 10,000-row file import (I3), against the one-minute budget and a bare
bulk insert of the same guests?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/import_rows.py

Generates a guests CSV (ids, names, e-mail, Turkish and German mobile numbers to normalise,
language, nationality, birth date, a marketing-SMS consent column for a third of the rows) and
a reservations CSV (a stay per guest), then times ``import_file`` — the path of the import
screen's task and of ``manage.py import_file`` — for: the guests file on an empty table, the
same file again (every row unchanged), the file with every last name changed (every row
updated), the reservations file (every guest's last name back as it was — updated — and every
stay created) and the reservations file again (every row unchanged). The baseline is
``Guest.objects.bulk_create`` of the same 10,000 guests without any rule. Everything runs in
one transaction that is rolled back: the database is left as found.
"""

# Django and the apps are imported inside functions: they need the settings, which main()
# configures (django.setup()) first.
from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")

ROWS = 10_000
BUDGET = 60.0  # seconds: "10,000 rows import in under a minute"
FIRST = ["Ayşe", "Mehmet", "Zeynep", "Hans", "Anna", "Olga", "Ivan", "Emma", "Luca", "Fatma"]
LAST = [
    "Yılmaz",
    "Kaya",
    "Demir",
    "Müller",
    "Schmidt",
    "Ivanova",
    "Smith",
    "Rossi",
    "Şahin",
    "Öztürk",
]


def files(business_date: dt.date, room: str, board: str) -> tuple[bytes, bytes]:
    rng = random.Random(13)
    guests = [
        "Guest ID;First name;Last name;E-mail;Mobile;Language;Nationality;Birth date;Marketing SMS"
    ]
    stays = ["Res No;Guest ID;First name;Last name;E-mail;Arrival;Departure;Room type;Board;Adults"]
    for n in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        turkish = n % 3 != 2
        phone = (
            f"0532 {n // 10000 % 10}{n:04d} {n % 97:02d}"[:15] if turkish else f"+49 151 {n:08d}"
        )
        language, country = ("tr", "TR") if turkish else ("de", "DE")
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
        consent = ("evet" if n % 2 else "hayır") if n % 3 == 0 else ""
        email = f"guest{n}@example.com"
        guests.append(
            f"G{n};{first};{last};{email};{phone};{language};{country};{born:%d.%m.%Y};{consent}"
        )
        arrival = business_date + dt.timedelta(days=rng.randrange(1, 200))
        departure = arrival + dt.timedelta(days=rng.randrange(1, 15))
        stays.append(
            f"R{n};G{n};{first};{last};{email};{arrival:%d.%m.%Y};{departure:%d.%m.%Y};{room};{board};2"
        )
    return "\n".join(guests).encode(), "\n".join(stays).encode()


def timed(label: str, run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - started
    return elapsed, result


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://… (PostgreSQL, as in production).")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from guests.models import BoardType, Guest, Hotel, RoomType
    from interfaces.imports.services import import_file

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        call_command("load_reference_data", verbosity=0)
        hotel = Hotel.load()
        guests_csv, stays_csv = files(
            hotel.business_date, RoomType.objects.first().code, BoardType.objects.first().code
        )
        sid = transaction.savepoint()
        baseline, _ = timed(
            "bulk",
            lambda: Guest.objects.bulk_create(
                Guest(first_name=f"G{n}", last_name="Bulk", email=f"bulk{n}@example.com")
                for n in range(ROWS)
            ),
        )
        transaction.savepoint_rollback(sid)

        def run(data: bytes, kind: str):
            return import_file(data=data, filename=f"{kind}.csv", kind=kind, source="bench")

        results = []
        # Every guest changed: "-Neu" after the last name (the third cell).
        changed_csv = b"\n".join(
            line if n == 0 else line.replace(b";", b"-Neu;", 3).replace(b"-Neu;", b";", 2)
            for n, line in enumerate(guests_csv.split(b"\n"))
        )
        for label, data, kind in (
            ("guests, new", guests_csv, "guests"),
            ("guests, unchanged", guests_csv, "guests"),
            ("guests, changed", changed_csv, "guests"),
            ("reservations, new", stays_csv, "reservations"),
            ("reservations, unchanged", stays_csv, "reservations"),
        ):
            elapsed, report = timed(label, lambda d=data, k=kind: run(d, k))
            counts = report.counts  # type: ignore[attr-defined]
            results.append(elapsed)
            print(
                f"import {label} {ROWS} rows: {elapsed:.1f} s ({ROWS / elapsed:.0f} rows/s), "
                f"{elapsed / BUDGET:.2f} of the one-minute budget, {elapsed / baseline:.0f}x a bare "
                f"bulk insert ({baseline:.2f} s); {counts}"
            )
        transaction.set_rollback(True)
    print(f"slowest: {max(results):.1f} s, ratio {max(results) / BUDGET:.2f} of the budget")


if __name__ == "__main__":
    main()
