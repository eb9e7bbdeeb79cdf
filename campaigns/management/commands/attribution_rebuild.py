"""Write every reservation's booking attribution again, or check the stored rows (E4)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.analytics import attributed_bookings, stored_bookings
from campaigns.attribution import attributions_refresh
from guests.models import Reservation


class Command(BaseCommand):
    help = (
        "Write the stored booking attribution of every reservation again from the send log "
        "(once after upgrading; it is kept up to date afterwards). --check only compares."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="bookers per transaction")
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare the stored attributions with the derivation; exit 1 if they differ",
        )

    def handle(self, *args: Any, batch: int, check: bool, **options: Any) -> None:
        if check:
            stored, derived = set(stored_bookings()), set(attributed_bookings())
            if stored != derived:
                raise CommandError(
                    f"{len(stored - derived)} stored attribution(s) not derived, "
                    f"{len(derived - stored)} derived not stored: run attribution_rebuild"
                )
            self.stdout.write(f"{len(stored)} attributed booking(s), as derived")
            return
        # Batches of bookers, so each booker's messages are read once.
        bookers = list(
            Reservation.objects.order_by("booker_id").values_list("booker_id", flat=True).distinct()
        )
        written = 0
        for start in range(0, len(bookers), max(1, batch)):
            chunk = bookers[start : start + batch]
            written += attributions_refresh(Reservation.objects.filter(booker_id__in=chunk))
        self.stdout.write(f"{written} reservation(s) attributed to a campaign message")
