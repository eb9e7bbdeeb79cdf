"""The Mews connector's state (I4): a connection per property, the webhooks received, and the
newest version of each Mews record applied here."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from channels_out.crypto import EncryptedTextField

DEMO_PLATFORM = "https://api.mews-demo.com"


class MewsConnection(models.Model):
    """One Mews property (enterprise) whose customers and reservations we keep in step."""

    name = models.CharField(max_length=80, unique=True)
    platform_url = models.URLField(
        default=DEMO_PLATFORM,
        help_text="The Connector API's address: https://api.mews.com in production, "
        "https://api.mews-demo.com on the demo environment.",
    )
    client_name = models.CharField(
        max_length=80,
        default="Hotel CRM messaging 1.0",
        help_text="Sent as Client with every request (the name and version of this application).",
    )
    enterprise_id = models.CharField(
        max_length=36,
        unique=True,
        help_text="The property's EnterpriseId in Mews; webhooks name it.",
    )
    client_token = EncryptedTextField(
        blank=True, help_text="ClientToken (one per integration partner)."
    )
    access_token = EncryptedTextField(blank=True, help_text="AccessToken (one per property).")
    webhook_token = EncryptedTextField(
        blank=True,
        help_text="The secret token Mews adds to the webhook URL (…/hooks/mews/?token=…): "
        "choose a long random one and send it to Mews with the URL.",
    )
    room_type = models.ForeignKey(
        "guests.RoomType",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Room type of a stay from Mews whose room category cannot be read (a "
        "category is otherwise matched to the room type with its name or code, or added).",
    )
    board_type = models.ForeignKey(
        "guests.BoardType",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Board of stays that come from Mews (Mews rates are not mapped).",
    )
    is_active = models.BooleanField(default=True)
    pulled_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="End of the UpdatedUtc window the last successful pull covered (the cursor).",
    )
    last_pull_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class MewsWebhook(models.Model):
    """One General Webhook message as received; processed after the answer (Mews wants one in 5 s)."""

    connection = models.ForeignKey(
        MewsConnection, on_delete=models.CASCADE, related_name="webhooks"
    )
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ("-received_at", "-pk")
        indexes = [models.Index(fields=("processed_at",), name="mews_webhook_pending_idx")]

    def __str__(self) -> str:
        return f"{self.connection} {self.received_at:%Y-%m-%d %H:%M:%S}"


class MewsRecord(models.Model):
    """The newest version (Mews's ``UpdatedUtc``) of one customer or reservation applied here.

    A webhook and a pull may both bring the same change, or a pull may bring an older one
    after a webhook brought a newer: a version not newer than this one is not applied again.
    """

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        RESERVATION = "reservation", "Reservation"

    connection = models.ForeignKey(MewsConnection, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    mews_id = models.CharField(max_length=36)
    updated_utc = models.DateTimeField()
    applied_at = models.DateTimeField(default=timezone.now)
    error = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why this version could not be applied, if it could not.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("connection", "kind", "mews_id"), name="mews_record_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.mews_id}"
