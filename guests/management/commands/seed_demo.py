"""Build the demo hotel: ``manage.py seed_demo [--reset]``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from guests import demo


class Command(BaseCommand):
    help = (
        f"Fill an empty database with the demo hotel “{demo.DEMO_HOTEL['name']}”, relative to today: "
        "reference data, over 300 guests from a dozen countries, stays in every status (arriving today, in house, "
        "departed yesterday, repeat guests, cancellations, no-shows, bookings over the next 60 days), "
        "consents, greylist entries and spa, restaurant and event bookings, plus the superuser "
        f"{demo.DEMO_USERNAME}/{demo.DEMO_PASSWORD}. Guests, stays, transitions, consents, greylist entries and "
        "bookings are made through the CRM services; only the business date (moved to each past day "
        "while its transitions run) and the timestamps of past events are set directly. "
        "Idempotent: when the demo is already there (the hotel bears the demo's name and has guests) "
        "nothing changes. --reset deletes the demo's guests, stays, bookings and night audits and builds "
        "it afresh for today (and resets the demo user's password). A database holding other guests is "
        "never touched. The phone numbers are random numbers in real mobile ranges: never point a live "
        "SMS, WhatsApp or Viber account at demo data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo data first and build it again for today.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        reset = options["reset"]
        try:
            with transaction.atomic():
                state = demo.demo_state()
                if state == "other":
                    raise demo.DemoError(demo.OTHER_DATA_MESSAGE)
                if state == "demo" and not reset:
                    _, created = demo.demo_user(reset_password=False)
                    note = " (the missing demo user was created)" if created else ""
                    self.stdout.write(
                        f"The demo hotel is already here; its data is unchanged{note}. "
                        "Run with --reset to rebuild it for today."
                    )
                    return
                if state == "demo":
                    demo.demo_reset()
                plan = demo.demo_build(now=timezone.now())
                demo.demo_user(reset_password=reset)
        except demo.DemoError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 1:
            self._print_summary()
        self.stdout.write(
            self.style.SUCCESS(
                f"Built “{demo.DEMO_HOTEL['name']}” for {plan.today:%d.%m.%Y} in {time.monotonic() - started:.1f} s. "
                f"Log in as {demo.DEMO_USERNAME} / {demo.DEMO_PASSWORD}."
            )
        )

    def _print_summary(self) -> None:
        for title, rows in demo.demo_summary():
            self.stdout.write(self.style.MIGRATE_HEADING(title))
            width = max((len(label) for label, _ in rows), default=0)
            for label, value in rows:
                self.stdout.write(f"  {label:<{width}}  {value}")
