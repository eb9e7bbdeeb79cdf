"""Create the staff roles; with --demo-users, one demo login per role."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser

from interfaces.staff.roles import FRONT_DESK, MANAGER, MARKETING, OPERATOR, sync_roles

DEMO_USERS = {
    "manager": (MANAGER, "Merve", "Manager"),
    "marketing": (MARKETING, "Mert", "Marketing"),
    "frontdesk": (FRONT_DESK, "Fatma", "Front Desk"),
    "operator": (OPERATOR, "Oğuz", "Operator"),
}


class Command(BaseCommand):
    help = "Create the Manager, Marketing, Front desk and Operator groups (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo-users",
            action="store_true",
            help="Also create manager/marketing/frontdesk/operator logins, password 'demo'.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        granted = sync_roles()
        self.stdout.write(
            "Roles: " + ", ".join(f"{role} ({n} permissions)" for role, n in granted.items())
        )
        if options["demo_users"]:
            User = get_user_model()
            for username, (role, first, last) in DEMO_USERS.items():
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={"first_name": first, "last_name": last, "is_staff": True},
                )
                if created:
                    user.set_password("demo")
                    user.save()
                user.groups.add(Group.objects.get(name=role))
            self.stdout.write("Demo logins (password demo): " + ", ".join(DEMO_USERS))
