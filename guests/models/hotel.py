"""The hotel itself: one row holding the business date and the house settings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm_messaging.singletons import OneRowModel


def _today() -> dt.date:
    return timezone.localdate()


class Hotel(OneRowModel):
    """The single hotel this installation serves (always pk=1)."""

    name = models.CharField(max_length=120, default="Demo Hotel")
    business_date = models.DateField(
        default=_today, help_text="The hotel's current trading day; advanced by the night audit."
    )
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    send_notifications_default = models.BooleanField(
        "send notifications on new reservations",
        default=True,
        help_text="Default of each new reservation's “send notifications” switch.",
    )
    auto_no_show_at_night_audit = models.BooleanField(
        default=True, help_text="The night audit marks arrivals that never checked in as no-shows."
    )

    class Meta:
        verbose_name = "hotel"
        permissions = [
            # The kernel's own permission, kept on the hotel's one row: who may open /admin/.
            ("open_admin", "Can open the Django admin (setup and data)"),
        ]

    def __str__(self) -> str:
        return self.name


class NightAudit(models.Model):
    """One closed business day (seed 000 "Gün Sonu İşlemi")."""

    business_date = models.DateField(unique=True)
    run_at = models.DateTimeField(default=timezone.now)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    arrivals = models.PositiveIntegerField(default=0)
    departures = models.PositiveIntegerField(default=0)
    in_house = models.PositiveIntegerField(default=0)
    no_shows = models.PositiveIntegerField(default=0)
    overstays = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-business_date",)
        get_latest_by = "business_date"

    def __str__(self) -> str:
        return f"Night audit {self.business_date:%Y-%m-%d}"
