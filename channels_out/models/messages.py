"""The send log (S5): one row per message attempt, its delivery events, and inbound messages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from crm_messaging.i18n import stored_words
from guests.models import ConsentPurpose, ContactChannel

from ..crypto import EncryptedTextField
from ..opt_out import opts_in


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Undelivered")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    UNKNOWN = "unknown", _("Unknown outcome")


# A status may only be replaced by one of higher rank: a late "sent" never overwrites
# "delivered", a repeated callback changes nothing. Final statuses share the top rank.
STATUS_RANK: dict[str, int] = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.UNKNOWN: 2,
    Status.SENT: 3,
    Status.DELIVERED: 4,
    Status.UNDELIVERED: 4,
    Status.FAILED: 4,
    Status.SKIPPED: 4,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank == 4)


def statuses_below(status: str) -> list[str]:
    """Return the statuses a message may leave to reach ``status``."""
    return [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("No consent")
    OPTED_OUT = "opted_out", _("Opted out")
    NO_DATA_CONSENT = "no_data_consent", _("No data-processing consent")
    GREYLISTED = "greylisted", _("Greylisted")
    NO_ADDRESS = "no_address", _("No address for this channel")
    INVALID_NUMBER = "invalid_number", _("Invalid number")
    QUIET_HOURS = "quiet_hours", _("Quiet hours")
    FREQUENCY_CAP = "frequency_cap", _("Frequency cap")
    NO_CREDITS = "no_credits", _("No credits")
    NOTIFICATIONS_OFF = "notifications_off", _("Notifications off for the stay")
    OUTSIDE_WINDOW = "outside_window", _("Outside WhatsApp 24-hour window")
    EXPIRED = "expired", _("Expired before it could go")
    RENDER_ERROR = "render_error", _("Template could not be rendered")
    SUPPRESSED = "suppressed", _("Address suppressed")


class Hold(models.TextChoices):
    """Why a queued message waits for its ``not_before``."""

    NONE = "", _("Not held")
    QUIET_HOURS = "quiet_hours", _("Quiet hours")
    SENT_NOW = "sent_now", _("Sent now by staff, despite quiet hours")


class OutboundMessage(models.Model):
    """One attempt to deliver one message to one recipient on one channel."""

    dedupe_key = models.CharField(
        max_length=200,
        unique=True,
        help_text="The same key is never sent twice (campaign, recipient, occurrence, step).",
    )
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    purpose = models.CharField(
        max_length=20,
        choices=[
            c
            for c in ConsentPurpose.choices
            if c[0] in (ConsentPurpose.SERVICE, ConsentPurpose.MARKETING)
        ],
    )
    # The foreign keys that lead a composite index below get no index of their own: every
    # status change of a message writes each of its indexes (see bench/send.py).
    account = models.ForeignKey(
        "channels_out.ChannelAccount",
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
    )
    backend = models.CharField(
        max_length=30, help_text="The backend the account used when this was sent."
    )
    to = models.CharField("recipient", max_length=254)
    guest = models.ForeignKey(
        "guests.Guest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    reservation = models.ForeignKey(
        "guests.Reservation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    facility_booking = models.ForeignKey(
        "guests.FacilityBooking",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    # What caused the message (a campaign run, …); channels_out does not need to know its kind.
    origin_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    origin_id = models.PositiveBigIntegerField(null=True, blank=True)
    origin = GenericForeignKey("origin_type", "origin_id")
    source = models.CharField(
        max_length=20,
        default="api",
        help_text="front_desk, campaign, test, portal, auto_reply, fallback, resend …",
    )

    language = models.CharField(max_length=8, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    template_id = models.CharField("provider template (content SID)", max_length=64, blank=True)
    template_variables = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(
        default=dict, blank=True, help_text="Extra e-mail headers (List-Unsubscribe …)."
    )
    # The rest of an ordered fallback plan: each item a step's channel, account and content.
    fallback_plan = models.JSONField(default=list, blank=True)
    # The content fields above are stored with their secrets masked; the full content waits
    # here, encrypted, while the message may still be sent (channels_out/text.py, ``seal``).
    sealed = EncryptedTextField(blank=True, default="", editable=False)
    fallback_for = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fallback",
        help_text="The message this one replaces (e.g. the Viber message this SMS falls back from).",
    )
    resend_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resent_as",
        help_text="The unknown-outcome message an operator chose to send again.",
    )

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    hold = models.CharField(
        max_length=12,
        choices=Hold.choices,
        blank=True,
        default=Hold.NONE,
        help_text="Why a queued message waits (with not_before), or that staff sent it despite the wait.",
    )
    reason = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why it was skipped or failed, in English (the API's and the export's words): "
        "our detail, or the provider's own words.",
    )
    detail = models.JSONField(
        default=dict,
        blank=True,
        help_text="Our detail of a skip in no language (crm_messaging.i18n.Phrase), "
        "read by staff in their own; empty for rows before it and for a provider's words.",
    )
    skip_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    provider_code = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    # E-mail: our Message-ID, fixed when the row is written, so a guest's reply (In-Reply-To,
    # References) finds the message whichever provider carried it.
    email_message_id = models.CharField("Message-ID", max_length=255, blank=True)

    # Engagement (E3): whether opens and clicks are tracked for this message (an e-mail by our
    # pixel and redirects or the ESP's; an SMS by its short links), and the first human open,
    # click and the complaint (for analytics; the events hold the detail).
    tracked = models.BooleanField(default=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)

    segments = models.PositiveSmallIntegerField(default=0)
    encoding = models.CharField(max_length=8, blank=True)
    country = models.CharField(
        max_length=2, blank=True, help_text="Destination country, for the price."
    )
    credits = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Waits until then (quiet hours, retry backoff)."
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Not sent at all after this moment."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        permissions = [
            ("send_one_off", "Can send one-off messages to guests"),
            ("resolve_unknown", "Can decide unknown outcomes (mark sent / resend)"),
            ("export_log", "Can export the send log as CSV"),
            ("send_held", "Can send a message waiting for quiet hours now"),
        ]
        indexes = [
            models.Index(fields=("status", "not_before"), name="outbound_due_idx"),
            models.Index(
                fields=("account", "provider_message_id"), name="outbound_provider_id_idx"
            ),
            models.Index(fields=("guest", "-created_at"), name="outbound_guest_idx"),
            models.Index(fields=("reservation", "-created_at"), name="outbound_reservation_idx"),
            models.Index(fields=("origin_type", "origin_id"), name="outbound_origin_idx"),
            # The few rows still holding a full text: the sweeper's wipe finds them here.
            models.Index(fields=("status",), condition=~Q(sealed=""), name="outbound_sealed_idx"),
            models.Index(
                fields=("email_message_id",),
                condition=~Q(email_message_id=""),
                name="outbound_email_message_id_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(credits__gte=0), name="outbound_credits_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.SKIPPED) | ~Q(skip_reason=""),
                name="outbound_skip_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_display()} → {self.to} ({self.get_status_display()})"

    # An unsaved row whose SMS links were just shortened carries them here, {code: URL}, until
    # the row is written with them (services/messages.py); None on a row read back.
    new_short_links: dict[str, str] | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def reason_text(self) -> str:
        """``reason`` for a staff member: our detail in his language, else the stored words."""
        return stored_words(self.detail, self.reason)

    @property
    def skip_detail_text(self) -> str:
        """``reason_text`` where it adds to the skip reason's label; empty where it only repeats
        it (a consent refusal stores the label's English words)."""
        detail = self.reason_text
        if self.skip_reason and not self.detail:
            label = self.get_skip_reason_display()
            with override("en"):
                english = self.get_skip_reason_display()
            if detail.lower() in (english.lower(), label.lower()):
                return ""
        return detail

    @property
    def skip_text(self) -> str:
        """Why it was skipped, for a staff member: the reason's label and the detail (where it
        adds to the label), in his language."""
        label = str(self.get_skip_reason_display()) if self.skip_reason else ""
        detail = self.skip_detail_text
        return f"{label}: {detail}" if label and detail else label or detail


class DeliveryEvent(models.Model):
    """Something that happened to a message: a provider answer, a receipt, an operator decision."""

    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=Status.choices)
    provider_status = models.CharField(max_length=40, blank=True)
    code = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(
        default=dict,
        blank=True,
        help_text="The description in no language (crm_messaging.i18n.Phrase) when it is ours.",
    )
    source = models.CharField(
        max_length=20, help_text="dispatch, webhook, sweeper, operator, sandbox …"
    )
    applied = models.BooleanField(
        default=True, help_text="False when it arrived late and changed nothing."
    )
    payload = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"{self.message_id}: {self.status} ({self.source})"

    @property
    def description_text(self) -> str:
        """``description`` for a staff member: ours in his language, else the stored words."""
        return stored_words(self.detail, self.description)


class InboundMessage(models.Model):
    """A message a guest sent us (SMS, WhatsApp, Viber, an e-mail reply): keywords, away
    messages, the WhatsApp window, the conversations of the inbox."""

    account = models.ForeignKey(
        "channels_out.ChannelAccount", on_delete=models.PROTECT, related_name="inbound"
    )
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    provider_message_id = models.CharField(max_length=255)
    from_number = models.CharField(
        "from", max_length=254, help_text="The sender's E.164 number, or e-mail address."
    )
    guest = models.ForeignKey(
        "guests.Guest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    keyword = models.CharField(
        max_length=20,
        blank=True,
        help_text="STOP, İptal, başla … as the guest wrote it, when the body was one.",
    )
    in_reply_to = models.ForeignKey(
        OutboundMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        help_text="E-mail: the message of ours this one answers.",
    )
    received_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the guest sent it, by the provider's clock (the order of a conversation).",
    )

    class Meta:
        ordering = ("-sent_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("account", "provider_message_id"), name="inbound_once_per_provider_id"
            ),
        ]
        indexes = [
            models.Index(fields=("from_number", "channel", "-sent_at"), name="inbound_window_idx"),
            models.Index(fields=("guest", "-sent_at"), name="inbound_guest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} from {self.from_number}"

    @property
    def opts_in(self) -> bool:
        """Whether the message is an opt-in keyword (START, BAŞLA …); any other keyword opts out."""
        return opts_in(self.keyword)
