"""Give the demo hotel its campaigns: ``manage.py seed_demo_campaigns`` (after ``seed_demo``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from campaigns.demo import DEMO_CAMPAIGNS, demo_campaigns_create
from guests.demo import DemoError


class Command(BaseCommand):
    help = (
        "Create the demo hotel's active campaigns from the standard templates: "
        + ", ".join(f"“{c.name}”" for c in DEMO_CAMPAIGNS)
        + ". Idempotent (a campaign of the same name is left alone); refused on a database "
        "holding another hotel's guests."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = demo_campaigns_create()
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        if created:
            names = ", ".join(f"“{campaign.name}”" for campaign in created)
            self.stdout.write(self.style.SUCCESS(f"Demo campaigns created: {names}."))
        else:
            self.stdout.write("The demo campaigns are already here; nothing changed.")
