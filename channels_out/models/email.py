"""E-mail that reports back (E2, E3): suppressed addresses, soft-bounce runs, opens and clicks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    SOFT_BOUNCES = "soft_bounces", _("Soft bounces in a row")
    REJECTED = "rejected", _("Refused by the provider")


class SuppressionCleared(models.TextChoices):
    """Who lifted a suppression; the label is what a reader sees when no reason was given."""

    STAFF = "staff", _("cleared by staff")
    PORTAL = "portal", _("the guest confirmed the address in the portal")


class Suppression(models.Model):
    """An e-mail address no message may go to until staff clear it or the guest confirms a new one.

    One row per suppression; a cleared row stays as history (``cleared_at``), and at most one
    row per address is in force.
    """

    address = models.EmailField(max_length=254)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    provider_code = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=500, blank=True)
    message = models.ForeignKey(
        "channels_out.OutboundMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The message whose bounce suppressed the address.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cleared_via = models.CharField(max_length=10, choices=SuppressionCleared.choices, blank=True)
    clear_reason = models.CharField(
        max_length=255, blank=True, help_text="The words staff gave; empty when they gave none."
    )

    class Meta:
        ordering = ("-created_at", "-pk")
        permissions = [("clear_suppression", "Can clear a suppressed e-mail address")]
        constraints = [
            models.UniqueConstraint(
                fields=("address",),
                condition=Q(cleared_at__isnull=True),
                name="one_suppression_in_force_per_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_reason_display()})"

    @property
    def in_force(self) -> bool:
        return self.cleared_at is None

    @property
    def clear_reason_text(self) -> str:
        """Why it was lifted, for the reader: the words staff gave, else who lifted it, in the
        active language (nothing in a language is stored unless staff typed it)."""
        return self.clear_reason or (
            str(self.get_cleared_via_display()) if self.cleared_via else ""
        )


class SoftBounceRun(models.Model):
    """How many messages to an address soft-bounced in a row (reset by a delivery)."""

    address = models.EmailField(max_length=254, unique=True)
    count = models.PositiveSmallIntegerField(default=0)
    last_message_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.address}: {self.count}"


class EngagementKind(models.TextChoices):
    OPEN = "open", _("Opened")
    CLICK = "click", _("Clicked")


class Engagement(models.Model):
    """One open or click of a tracked message, human or not (a mail scanner's pre-fetch)."""

    message = models.ForeignKey(
        "channels_out.OutboundMessage", on_delete=models.CASCADE, related_name="engagements"
    )
    kind = models.CharField(max_length=5, choices=EngagementKind.choices)
    url = models.URLField(max_length=2000, blank=True)
    human = models.BooleanField(
        help_text="False for a mail scanner: a known scanner, or within seconds of delivery."
    )
    source = models.CharField(
        max_length=10,
        help_text="ours (pixel, redirect), short (an SMS's short link) or esp (the provider's)",
    )
    user_agent = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("at", "pk")
        indexes = [models.Index(fields=("message", "kind"), name="engagement_message_idx")]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.kind}"
