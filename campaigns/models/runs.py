"""Runs (C12) and the trigger outbox: what happened, when, and what still has to."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_messaging.i18n import Phrase, stored_words

from .campaign import Campaign
from .choices import Trigger


class TriggerEvent(models.Model):
    """A cause recorded in the same transaction as the change that caused it (an outbox row).

    The signal receiver writes it and schedules its processing after commit; if that task is
    lost, the periodic sweep processes it, so no cause is forgotten (R2). The unique key
    makes a repeated signal harmless.
    """

    kind = models.CharField(max_length=30, choices=Trigger.choices)
    key = models.CharField(
        max_length=120, unique=True, help_text="e.g. check_in:reservation:42, daily:2026-11-24"
    )
    reservation = models.ForeignKey(
        "guests.Reservation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    facility_booking = models.ForeignKey(
        "guests.FacilityBooking",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    changed_fields = models.JSONField(
        default=list, blank=True, help_text="For “reservation modified”: the fields that changed."
    )
    business_date = models.DateField(null=True, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="For a one-off campaign, or a daily one with its own send time: which one is due.",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("occurred_at", "pk")
        indexes = [
            models.Index(fields=("processed_at", "occurred_at"), name="trigger_event_pending_idx")
        ]

    def __str__(self) -> str:
        return self.key


class CampaignRun(models.Model):
    """One occurrence of a campaign: a tick, an event, an operator send."""

    class State(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")
        REJECTED = "rejected", _("Rejected by the approver")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="runs")
    trigger = models.CharField(max_length=30, choices=Trigger.choices)
    occurrence = models.CharField(
        max_length=120, help_text="What this run is for: a date, an hour, a record, a send."
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    audience_size = models.PositiveIntegerField(default=0)
    selected_ids = models.JSONField(
        default=list, blank=True, help_text="Operator “send to selected”: the chosen records."
    )
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    estimated_recipients = models.PositiveIntegerField(
        default=0, help_text="Recipients the estimate expected the send to queue a message for."
    )
    refusal = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why it was refused or rejected, in English (the admin's and the logs' words).",
    )
    refusal_words = models.JSONField(
        default=dict,
        blank=True,
        help_text="The refusal in no language (crm_messaging.i18n.Phrase), read by staff in "
        "their own; empty for an approver's own words and for older rows it could not read.",
    )
    render_failures = models.JSONField(
        default=dict,
        blank=True,
        help_text="Recipients skipped because their message failed to render.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-started_at", "-pk")
        constraints = [
            # A tick that fires twice, two beats or a re-run night audit find the same run.
            models.UniqueConstraint(
                fields=("campaign", "occurrence"), name="one_run_per_occurrence"
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("requested_by")),
                name="run_approver_is_not_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} — {self.occurrence}"

    @staticmethod
    def refusal_fields(words: Phrase | str) -> dict[str, Any]:
        """The fields that keep why a run did not go: our phrase (kept in no language, and in
        English), or someone's own words (an approver's reason) as written."""
        if isinstance(words, Phrase):
            return {"refusal": words.english()[:255], "refusal_words": words.as_json()}
        return {"refusal": words[:255], "refusal_words": {}}

    @property
    def refusal_text(self) -> str:
        """``refusal`` for a staff member: our phrase in his language, else the words stored."""
        return stored_words(self.refusal_words, self.refusal)

    @property
    def report_label(self) -> str:
        """How the credits report groups this run's messages: by campaign."""
        return _("Campaign: %(name)s") % {"name": self.campaign.name}
