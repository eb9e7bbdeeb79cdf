"""Re-encrypt every stored provider secret with the first key of FIELD_ENCRYPTION_KEY."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from channels_out.services.maintenance import secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Rotate the encryption key of stored secrets: put the new key first in "
        "FIELD_ENCRYPTION_KEY (new,old), run this, then remove the old key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.FIELD_ENCRYPTION_KEYS:
            raise CommandError(
                "FIELD_ENCRYPTION_KEY is not set: secrets use the key derived from SECRET_KEY. "
                "Set FIELD_ENCRYPTION_KEY=<new key>,… first."
            )
        try:
            rewritten = secrets_reencrypt()
        except ImproperlyConfigured as exc:
            raise CommandError(f"{exc}. Nothing was changed.") from exc
        total = sum(rewritten.values())
        for label, count in rewritten.items():
            self.stdout.write(f"{label}: {count} row(s) re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                f"{total} row(s) now use the first key; the other "
                f"{len(settings.FIELD_ENCRYPTION_KEYS) - 1} key(s) can be removed."
            )
        )
