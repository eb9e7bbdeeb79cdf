"""Conversations: one per guest across channels, their assignment, read markers, notes, events."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guests.models import ContactChannel


class Conversation(models.Model):
    """A guest's conversation with the hotel on every channel (or, until staff link it to a
    guest, an unknown sender's, by the address they wrote from)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    guest = models.ForeignKey(
        "guests.Guest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    address = models.CharField(
        max_length=254, help_text="The number or e-mail address the guest last wrote from."
    )
    channel = models.CharField(
        max_length=10, choices=ContactChannel.choices, help_text="The channel the guest last used."
    )
    account = models.ForeignKey(
        "channels_out.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The account the guest last wrote to: replies go from it.",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_activity_at = models.DateTimeField(default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # The guest's last WhatsApp message: free text may answer for 24 hours after it.
    last_whatsapp_at = models.DateTimeField(null=True, blank=True)
    preview = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-last_activity_at", "-pk")
        permissions = [("reply_conversation", "Can answer guests' conversations")]
        constraints = [
            models.UniqueConstraint(
                fields=("guest",), condition=Q(guest__isnull=False), name="conversation_per_guest"
            ),
            models.UniqueConstraint(
                fields=("address",),
                condition=Q(guest__isnull=True),
                name="conversation_per_unknown_sender",
            ),
        ]
        indexes = [
            models.Index(fields=("status", "-last_activity_at"), name="conversation_tab_idx"),
            models.Index(
                fields=("assigned_to", "status", "-last_activity_at"),
                name="conversation_assigned_idx",
            ),
            models.Index(fields=("-last_activity_at", "-id"), name="conversation_activity_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.guest or self.address}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ConversationRead(models.Model):
    """How far one member of staff has read a conversation: unread means a guest's message after it."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("conversation", "user"), name="one_read_marker"),
        ]
        indexes = [models.Index(fields=("user", "conversation"), name="read_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} read #{self.conversation_id} at {self.read_at:%Y-%m-%d %H:%M}"


class ConversationNote(models.Model):
    """An internal note on a conversation: staff see it, the guest never does."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"Note on #{self.conversation_id}"


class ConversationEvent(models.Model):
    """A line of the conversation's own history: opened, assigned, closed, linked to a guest …"""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Conversation opened")
        REOPENED = "reopened", _("Conversation re-opened")
        CLOSED = "closed", _("Conversation closed")
        ASSIGNED = "assigned", _("Assigned")
        UNASSIGNED = "unassigned", _("Unassigned")
        LINKED = "linked", _("Linked to a guest")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"#{self.conversation_id} {self.kind}"


class QuickReply(models.Model):
    """A canned answer in one language, with placeholders ({first_name}, {room} …); outside
    the WhatsApp window only those with an approved template may go."""

    title = models.CharField(max_length=80)
    language = models.CharField(max_length=8, choices=settings.GUEST_LANGUAGES)
    body = models.TextField(
        help_text="Placeholders: {first_name}, {last_name}, {room}, {arrival}, {departure}, {hotel}."
    )
    whatsapp_template_id = models.CharField(
        "approved WhatsApp template (content SID)",
        max_length=64,
        blank=True,
        help_text="With one, this answer may go on WhatsApp outside the 24-hour window.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("language", "position", "title")
        verbose_name_plural = "quick replies"
        constraints = [
            models.UniqueConstraint(fields=("language", "title"), name="quick_reply_title_once"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    def clean(self) -> None:
        """Refuse a text or template the inbox could not send as staff see it (quick_text)."""
        from .quick_text import errors

        found = errors(self.body, self.whatsapp_template_id)
        if found:
            raise ValidationError(found)
