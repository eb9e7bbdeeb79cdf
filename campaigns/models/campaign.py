"""A campaign (C1–C6): who gets what, when, through which channels."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from guests.models import ConsentPurpose, ContactChannel

from . import choices


class Campaign(models.Model):
    """An automated or manual message campaign (the Elektraweb "Otomatik Mail - Sms Gönderici")."""

    # --- basics (C1) -------------------------------------------------------------------------
    name = models.CharField(_("internal name"), max_length=120, help_text=_("Only staff see it."))
    description = models.TextField(blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    purpose = models.CharField(
        max_length=20,
        choices=[
            (ConsentPurpose.SERVICE.value, ConsentPurpose.SERVICE.label),
            (ConsentPurpose.MARKETING.value, ConsentPurpose.MARKETING.label),
        ],
        default=ConsentPurpose.SERVICE,
    )
    source = models.CharField(
        max_length=20, choices=choices.Source.choices, default=choices.Source.RESERVATIONS
    )
    recipients = models.CharField(
        _("recipients"),
        max_length=12,
        choices=choices.Recipients.choices,
        default=choices.Recipients.BOOKER,
        help_text=_(
            "Reservations only: the booker, every adult on the stay (companions too), or each "
            "guest whose address on the first channel is his own. One message per person, in his "
            "language, with his own consent."
        ),
    )
    survey_url = models.CharField(
        _("survey link"),
        max_length=500,
        blank=True,
        help_text=_(
            "The address @SURVEY links to, e.g. https://survey.example.com/s/4Hq?booking={resno}&lang={language} "
            "({resno}, {guest}, {language}, {arrival}, {departure}, {room} are filled per guest). "
            "Empty: the hotel's survey link in Campaign settings."
        ),
    )
    shorten_links = models.BooleanField(
        _("shorten links in SMS"),
        default=False,
        help_text=_(
            "Each web link in the SMS becomes a short link on the hotel's address "
            "(e.g. https://hotel.example/s/Ab3xYz9QkL) that counts the guest's clicks; the "
            "counter, the cost estimate and the parts count the short link. Not for guests "
            "who refused analytics consent; Viber, WhatsApp and e-mail keep their links."
        ),
    )

    # --- trigger and timing (C2, C3) ---------------------------------------------------------
    trigger = models.CharField(
        max_length=30, choices=choices.Trigger.choices, default=choices.Trigger.OPERATOR
    )
    timing = models.CharField(
        max_length=30, choices=choices.Timing.choices, blank=True, default=choices.Timing.NONE
    )
    offset = models.PositiveSmallIntegerField(
        _("N"),
        default=0,
        validators=[MaxValueValidator(366)],
        help_text=_("The N of the timing (days or hours)."),
    )
    send_time = models.TimeField(
        _("send at"),
        null=True,
        blank=True,
        help_text=_(
            "Daily campaigns: the hotel-time hour the day's messages go (e.g. 10:00); empty: right "
            "after the night audit. Quiet hours in the guest's time still apply."
        ),
    )
    scheduled_at = models.DateTimeField(null=True, blank=True, help_text=_("For “once” campaigns."))
    catch_up = models.BooleanField(
        default=False,
        help_text=_(
            "A record booked after its moment (e.g. 3 days before arrival) still gets the message at the next tick."
        ),
    )
    stay_changes = models.JSONField(
        _("changes that count"),
        default=list,
        blank=True,
        help_text=_(
            "“Reservation modified” only: which changes send the message (none ticked: dates, room or number of guests)."
        ),
    )

    # --- stay filters (C4) -------------------------------------------------------------------
    repeat_guests_only = models.BooleanField(default=False)
    rate_min = models.DecimalField(
        _("nightly rate from"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    rate_max = models.DecimalField(
        _("nightly rate to"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    nights_min = models.PositiveSmallIntegerField(null=True, blank=True)
    nights_max = models.PositiveSmallIntegerField(null=True, blank=True)
    stay_types = models.ManyToManyField("guests.StayType", blank=True, related_name="+")
    agencies = models.ManyToManyField("guests.Agency", blank=True, related_name="+")
    market_segments = models.ManyToManyField("guests.MarketSegment", blank=True, related_name="+")
    board_types = models.ManyToManyField("guests.BoardType", blank=True, related_name="+")
    room_types = models.ManyToManyField("guests.RoomType", blank=True, related_name="+")
    source_channels = models.ManyToManyField("guests.SourceChannel", blank=True, related_name="+")
    reservation_statuses = models.JSONField(
        _("reservation statuses"),
        default=list,
        blank=True,
        help_text=_(
            "Only stays in these statuses (empty: every stay that is not cancelled or a no-show)."
        ),
    )
    nationalities = CountryField(
        multiple=True, blank=True, help_text=_("Only these nationalities (empty: all).")
    )
    excluded_nationalities = CountryField(
        multiple=True, blank=True, help_text=_("All except these (e.g. “all except Türkiye”).")
    )

    # --- guest filters (C5) ------------------------------------------------------------------
    age_mode = models.CharField(
        max_length=10, choices=choices.AgeMode.choices, blank=True, default=choices.AgeMode.ANY
    )
    age_min = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    age_max = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(130)],
        help_text=_("Inclusive: 17 means “under 18”."),
    )
    birthday = models.CharField(
        max_length=12,
        choices=choices.BirthdayFilter.choices,
        blank=True,
        default=choices.BirthdayFilter.ANY,
    )
    genders = models.JSONField(default=list, blank=True, help_text=_("Empty: any gender."))
    vip_min = models.PositiveSmallIntegerField(_("VIP level at least"), null=True, blank=True)
    loyalty_members_only = models.BooleanField(default=False)
    loyalty_tiers = models.ManyToManyField("guests.LoyaltyTier", blank=True, related_name="+")
    stays_min = models.PositiveSmallIntegerField(
        _("completed stays at least"), null=True, blank=True
    )
    stays_max = models.PositiveSmallIntegerField(
        _("completed stays at most"), null=True, blank=True
    )
    balance_min = models.DecimalField(
        _("outstanding balance at least"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Debt reminders: guests owing at least this much."),
    )
    languages = models.JSONField(default=list, blank=True, help_text=_("Empty: any language."))
    require_data_consent = models.BooleanField(
        _("data-processing consent required"),
        default=False,
        help_text=_("Only guests who gave KVKK/GDPR consent."),
    )
    require_channel_consent = models.BooleanField(
        _("communication consent required"),
        default=False,
        help_text=_(
            "Only guests with an explicit opt-in for the campaign's purpose on the first channel."
        ),
    )
    exclude_greylisted = models.BooleanField(
        default=True,
        help_text=_("Guests with a greylist entry in force are left out of the audience."),
    )

    # --- facility filters (C6) ---------------------------------------------------------------
    facility_types = models.ManyToManyField("guests.FacilityType", blank=True, related_name="+")

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-is_active", "name")
        permissions = [
            ("send_campaign", "Can send operator campaigns"),
            ("approve_send", "Can approve large sends (four-eyes)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="campaign_validity_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # An unsaved draft (``campaigns.drafts.campaign_draft``) carries its plan and messages here.
    draft_steps: list[CampaignStep] | None = None
    draft_variants: list[MessageVariant] | None = None

    @property
    def is_draft(self) -> bool:
        """Whether this is an in-memory draft from the editor, never to be saved."""
        return self.draft_steps is not None

    def plan_steps(self) -> list[CampaignStep]:
        """The delivery plan in order, accounts loaded (a draft's own, unsaved)."""
        if self.draft_steps is not None:
            return list(self.draft_steps)
        if self.pk is None:
            return []
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("steps")
        if prefetched is not None:
            return sorted(prefetched, key=lambda step: (step.position, step.pk))
        return list(self.steps.select_related("account").order_by("position", "pk"))

    def message_variants(self) -> list[MessageVariant]:
        """The message in each language (a draft's own, unsaved)."""
        if self.draft_variants is not None:
            return list(self.draft_variants)
        if self.pk is None:
            return []
        return list(self.variants.all())  # the prefetched ones when prefetched

    def hears_changes(self, fields: set[str] | frozenset[str]) -> bool:
        """Tell whether a change of the reservation's ``fields`` counts for this campaign."""
        kinds = self.stay_changes or choices.StayChange.values
        return any(
            choices.STAY_CHANGE_FIELDS[choices.StayChange(kind)] & set(fields) for kind in kinds
        )

    def is_valid_on(self, day: dt.date) -> bool:
        """Tell whether ``day`` falls in the validity range."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


# A campaign's editable fields by section, in the order every form shows them (the admin's
# fieldsets, the campaign editor); one list, so a new filter appears on both screens.
BASIC_FIELDS = (
    "name",
    "description",
    "is_active",
    "valid_from",
    "valid_until",
    "purpose",
    "source",
    "recipients",
    "survey_url",
    "shorten_links",
)
TRIGGER_FIELDS = (
    "trigger",
    "timing",
    "offset",
    "send_time",
    "scheduled_at",
    "catch_up",
    "stay_changes",
)
STAY_FILTERS = (
    "reservation_statuses",
    "repeat_guests_only",
    "rate_min",
    "rate_max",
    "nights_min",
    "nights_max",
    "nationalities",
    "excluded_nationalities",
    "stay_types",
    "agencies",
    "market_segments",
    "board_types",
    "room_types",
    "source_channels",
)
GUEST_FILTERS = (
    "age_mode",
    "age_min",
    "age_max",
    "birthday",
    "genders",
    "vip_min",
    "loyalty_members_only",
    "loyalty_tiers",
    "stays_min",
    "stays_max",
    "balance_min",
    "languages",
    "require_data_consent",
    "require_channel_consent",
    "exclude_greylisted",
)
FACILITY_FILTERS = ("facility_types",)
CAMPAIGN_FIELDS = (*BASIC_FIELDS, *TRIGGER_FIELDS, *STAY_FILTERS, *GUEST_FILTERS, *FACILITY_FILTERS)
# The reference lists a campaign filters on (agencies, room types, loyalty tiers …).
M2M_FILTERS = tuple(field.name for field in Campaign._meta.many_to_many)


class CampaignStep(models.Model):
    """One channel of the delivery plan; the steps form an ordered fallback chain (C1)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    account = models.ForeignKey(
        "channels_out.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Empty: the channel's default account. A Viber account with an SMS fallback gives Viber→SMS."
        ),
    )

    class Meta:
        ordering = ("campaign", "position", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("campaign", "position"), name="campaign_step_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.get_channel_display()}"


class MessageVariant(models.Model):
    """What a campaign says in one language (C8): e-mail subject + HTML, text for SMS/Viber, WhatsApp template."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=8, choices=settings.GUEST_LANGUAGES)
    subject = models.CharField(_("e-mail subject"), max_length=255, blank=True)
    html = models.TextField(_("e-mail HTML"), blank=True)
    text = models.TextField(
        _("text"),
        blank=True,
        help_text=_("SMS, Viber and WhatsApp free text; also the e-mail's plain part when given."),
    )
    whatsapp_content_sid = models.CharField(
        _("WhatsApp template (Content SID)"), max_length=64, blank=True
    )
    whatsapp_variables = models.JSONField(
        _("WhatsApp template variables"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"1": "@NAME", "2": "{{ reservation.arrival }}"}'),
    )
    note = models.CharField(
        _("staff note"),
        max_length=300,
        blank=True,
        help_text=_("A short note appended to the message."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("campaign", "language")
        constraints = [
            models.UniqueConstraint(
                fields=("campaign", "language"), name="one_variant_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} [{self.language}]"


# What a message variant says; the rest (campaign, language) is where it belongs.
VARIANT_CONTENT = ("subject", "html", "text", "whatsapp_content_sid", "whatsapp_variables", "note")
