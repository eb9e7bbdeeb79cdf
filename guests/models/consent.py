"""Consent (G6): append-only records per purpose and channel; the current state is derived."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .guest import Guest


class ContactChannel(models.TextChoices):
    """The ways we reach a guest; shared by consent, templates and the sender layer."""

    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    VIBER = "viber", "Viber"


class ConsentPurpose(models.TextChoices):
    DATA_PROCESSING = "data_processing", _("Data processing (KVKK/GDPR)")
    SERVICE = "service", _("Service messages")
    MARKETING = "marketing", _("Marketing messages")
    ANALYTICS = "analytics", _("Engagement analytics (opens and clicks)")


# Purposes that cover every channel and name none.
CHANNEL_FREE_PURPOSES = (ConsentPurpose.DATA_PROCESSING, ConsentPurpose.ANALYTICS)


class ConsentSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    BOOKING = "booking", _("Booking")
    GUEST_PORTAL = "guest_portal", _("Guest portal")
    IMPORT = "import", _("Import")
    INBOUND_KEYWORD = "inbound_keyword", _("Inbound keyword (STOP/START)")
    UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link")
    COMPLAINT = "complaint", _("Spam complaint")
    PROVIDER_UNSUBSCRIBE = "provider_unsub", _("Unsubscribed at the e-mail provider")
    # Stored as "api:<key name>": which integration stated it.
    API = "api", _("API")


def consent_source_error(source: str) -> str:
    """Say why ``source`` is no consent source, or return "" when it is one: a listed source,
    or "api:<name>" naming the integration (API key) that stated the consent."""
    if source in ConsentSource.values and source != ConsentSource.API:
        return ""
    kind, _sep, name = source.partition(":")
    if kind == ConsentSource.API and name.strip() and len(source) <= CONSENT_SOURCE_MAX_LENGTH:
        return ""
    return gettext("Unknown consent source “%(source)s”.") % {"source": source}


CONSENT_SOURCE_MAX_LENGTH = 80


def consent_channel_error(purpose: str, channel: str) -> str:
    """Say why ``channel`` does not fit consent for ``purpose``, or return "" when it does:
    data-processing consent covers every channel and names none; service and marketing
    consent name one."""
    if purpose == ConsentPurpose.DATA_PROCESSING and channel:
        return gettext("Data-processing consent covers every channel; choose no channel.")
    if purpose == ConsentPurpose.ANALYTICS and channel:
        return gettext("Analytics consent covers every channel; choose no channel.")
    if purpose in (ConsentPurpose.SERVICE, ConsentPurpose.MARKETING) and (
        channel not in ContactChannel.values
    ):
        return gettext("%(purpose)s consent needs a channel.") % {
            "purpose": ConsentPurpose(purpose).label
        }
    return ""


class AppendOnlyError(Exception):
    """Raised on an attempt to change or delete an append-only record."""


class ConsentRecord(models.Model):
    """One statement of consent given or withdrawn; never changed, never deleted.

    Data-processing consent covers all channels and has an empty ``channel``; service and
    marketing consent are per channel. The newest record for a (purpose, channel) is the
    guest's current state.
    """

    # PROTECT: the history outlives a careless delete; merging moves it instead.
    guest = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="consent_records")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    channel = models.CharField(max_length=10, choices=ContactChannel.choices, blank=True)
    granted = models.BooleanField()
    source = models.CharField(max_length=CONSENT_SOURCE_MAX_LENGTH, choices=ConsentSource.choices)
    wording_version = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=255, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-recorded_at", "-pk")
        indexes = [
            # "granted" rides along so the current state is read from the index alone (PostgreSQL).
            models.Index(
                fields=("guest", "purpose", "channel", "-recorded_at", "-id"),
                name="consent_current_idx",
                include=("granted",),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(purpose__in=CHANNEL_FREE_PURPOSES) & Q(channel=""))
                | (~Q(purpose__in=CHANNEL_FREE_PURPOSES) & ~Q(channel="")),
                name="consent_channel_matches_purpose",
            ),
        ]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrawn"
        where = f" by {self.get_channel_display()}" if self.channel else ""
        return f"{self.get_purpose_display()}{where} {verb}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(
                "Consent records are append-only: record a new statement instead."
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Consent records are append-only and cannot be deleted.")

    def clean(self) -> None:
        if error := consent_channel_error(self.purpose, self.channel):
            raise ValidationError({"channel": error})


class ConsentWording(models.Model):
    """The text a guest agreed to, per purpose, version and language."""

    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    version = models.CharField(max_length=40)
    language = models.CharField(max_length=8, choices=settings.GUEST_LANGUAGES)
    text = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("purpose", "-published_at", "language")
        constraints = [
            models.UniqueConstraint(
                fields=("purpose", "version", "language"), name="consent_wording_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} v{self.version} ({self.language})"
