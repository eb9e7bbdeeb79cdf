"""Delete old login-code rows (phone numbers and client addresses are personal data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from interfaces.portal import conf
from interfaces.portal.services import login_codes_purge


class Command(BaseCommand):
    help = f"Delete guest-portal login codes older than --days (default: {conf.LOGIN_CODE_RETENTION.days})."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=conf.LOGIN_CODE_RETENTION.days)

    def handle(self, *args: Any, days: int, **options: Any) -> None:
        if days < 1:
            self.stderr.write(
                "--days must be at least 1: the hourly send limits count the last hour's codes."
            )
            return
        deleted = login_codes_purge(older_than=dt.timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} login code(s) older than {days} day(s).")
