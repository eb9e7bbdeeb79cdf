"""Outbound webhooks (I2): the hotel's other systems (a PMS) subscribe to events.

An endpoint names a URL and the event types it wants; each event is written once, in the
transaction of its cause (the outbox), with one delivery per subscribed endpoint; every
HTTP attempt of a delivery is logged.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_out.crypto import EncryptedTextField

# How long a delivery is retried, and how long an endpoint may fail before it is disabled.
RETRY_WINDOW = dt.timedelta(hours=24)


class EventType(models.TextChoices):
    MESSAGE_STATUS_CHANGED = "message.status_changed", _("Message status changed")
    MESSAGE_INBOUND = "message.inbound", _("Inbound message")
    CONSENT_CHANGED = "consent.changed", _("Consent changed")
    CAMPAIGN_RUN_FINISHED = "campaign_run.finished", _("Campaign run finished")
    CREDITS_LOW = "credits.low", _("Credits low")


class WebhookEndpoint(models.Model):
    """A URL of the hotel's other system and the events it receives, signed with its secret."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(
        _("events"), default=list, help_text='Event types, e.g. ["message.status_changed"].'
    )
    # The signing key (``whsec_`` + base64), shown once when made; encrypted at rest.
    secret = EncryptedTextField(editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    # Since when every attempt has failed (None: the last attempt succeeded, or none yet).
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.description or self.url

    def event_labels(self) -> list[str]:
        """The events it receives, in words (in the reader's language)."""
        return [str(EventType(event).label) for event in self.events if event in EventType.values]

    def wants(self, event_type: str) -> bool:
        return event_type in self.events

    @property
    def disabled_for_failures(self) -> bool:
        return not self.is_active and bool(self.disabled_reason)


class WebhookEvent(models.Model):
    """One event, written in the transaction of its cause; its id is stable across every
    delivery and retry, so a receiver can drop a repeat."""

    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40, choices=EventType.choices)
    # What causes the event, once: a second event for the same cause is never written.
    cause = models.CharField(max_length=120, unique=True)
    payload = models.JSONField(help_text="The body sent: id, type, timestamp and data.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event for one endpoint: retried with backoff until it succeeds or its window ends."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due (also a claim: a worker sending it pushes it forward).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    # A manager asked for it again ("redeliver"): the next attempt is theirs.
    redeliver_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    redeliver_requested = models.BooleanField(default=False)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


# What an attempt's log shows of the request and its answer (admin and API alike).
ATTEMPT_FIELDS = ["attempted_at", "status_code", "latency_ms", "response_excerpt", "error"]


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and its answer (never the secret or the signature)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=255, blank=True)
    succeeded = models.BooleanField(default=False)
    # A manager's "redeliver", not a scheduled retry.
    manual = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-attempted_at", "-pk"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
