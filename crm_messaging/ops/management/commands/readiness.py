"""Print the readiness report as JSON; exit 1 when something is down (for container health checks)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crm_messaging.ops.health import CHECKS, readiness


class Command(BaseCommand):
    help = "Check the database, cache, broker, workers and beat, as /readyz does; exit 1 when one is down."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            choices=sorted(CHECKS),
            help="Check only this part (repeatable), e.g. --only beat for beat's container.",
        )

    def handle(self, *args: Any, only: list[str] | None, **options: Any) -> None:
        report = readiness(only)
        self.stdout.write(json.dumps(report, indent=2))
        if report["down"]:
            sys.exit(1)
