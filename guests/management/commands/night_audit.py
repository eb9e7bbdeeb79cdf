"""Close the business day: ``manage.py night_audit [--date YYYY-MM-DD]``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guests.services import NightAuditError, night_audit_run


class Command(BaseCommand):
    help = "Run the night audit: close the current business date, mark no-shows, advance to the next day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=dt.date.fromisoformat,
            help="Only run if this is the current business date (guards against closing a day twice).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            audit = night_audit_run(expected_date=options["date"])
        except NightAuditError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Closed {audit.business_date:%Y-%m-%d}: {audit.arrivals} arrivals, {audit.departures} departures, "
                f"{audit.in_house} in house, {audit.no_shows} no-shows, {audit.overstays} overstays. "
                f"Business date is now {audit.business_date + dt.timedelta(days=1):%Y-%m-%d}."
            )
        )
