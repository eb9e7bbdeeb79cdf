"""Load (or refresh) the reference lists from fixtures/reference.json."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load board types, room types, segments, channels, agencies, loyalty tiers and facilities (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command(
            "loaddata",
            str(settings.BASE_DIR / "fixtures" / "reference.json"),
            verbosity=options["verbosity"],
        )
