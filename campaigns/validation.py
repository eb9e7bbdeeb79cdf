"""What makes a campaign definition sendable (C1–C6): clear messages, per field."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from crm_messaging.guests.models import ContactChannel

from .models import EVENT_TRIGGERS, AgeMode, Campaign, Source, Timing, Trigger

RESERVATION_TIMINGS = frozenset(
    {Timing.DAYS_BEFORE_ARRIVAL, Timing.DAYS_AFTER_DEPARTURE, Timing.HOURS_BEFORE_ARRIVAL}
)
FACILITY_TIMINGS = frozenset({Timing.HOURS_BEFORE_START, Timing.DAYS_BEFORE_START, Timing.DAYS_AFTER_START})
HOURLY_TIMINGS = frozenset({Timing.HOURS_BEFORE_ARRIVAL, Timing.HOURS_BEFORE_START})
DAILY_TIMINGS = frozenset(
    {Timing.DAYS_BEFORE_ARRIVAL, Timing.DAYS_AFTER_DEPARTURE, Timing.DAYS_BEFORE_START, Timing.DAYS_AFTER_START,
     Timing.BIRTHDAY}
)
FACILITY_SOURCES = frozenset({Source.SPA, Source.FACILITY})


def definition_errors(campaign: Campaign) -> dict[str, list[str]]:
    """Return {field: [messages]} for what is wrong with the campaign's own fields."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if campaign.valid_from and campaign.valid_until and campaign.valid_until < campaign.valid_from:
        error("valid_until", "The validity range ends before it starts.")
    trigger, timing, source = campaign.trigger, campaign.timing, campaign.source
    if trigger in EVENT_TRIGGERS and source != Source.RESERVATIONS:
        error("source", f"“{Trigger(trigger).label}” happens to reservations: choose the reservations table.")
    if trigger in EVENT_TRIGGERS and timing:
        error("timing", f"“{Trigger(trigger).label}” sends at the moment it happens; leave the timing empty.")
    if timing in HOURLY_TIMINGS and trigger != Trigger.HOURLY:
        error("timing", f"“{Timing(timing).label}” needs the hourly trigger.")
    if timing in DAILY_TIMINGS and trigger != Trigger.DAILY:
        error("timing", f"“{Timing(timing).label}” needs the daily trigger.")
    if timing in RESERVATION_TIMINGS and source != Source.RESERVATIONS:
        error("timing", f"“{Timing(timing).label}” needs the reservations table as source.")
    if timing in FACILITY_TIMINGS and source not in FACILITY_SOURCES:
        error("timing", f"“{Timing(timing).label}” needs the spa or event/facility reservations table as source.")
    if trigger == Trigger.HOURLY and source == Source.GUESTS:
        error("trigger", "Guests have no hours to count from: an hourly campaign needs reservations or facility bookings.")
    if timing == Timing.BIRTHDAY and source != Source.GUESTS:
        error("timing", "Birthday wishes go to guests: choose the guests table.")
    if timing and timing != Timing.BIRTHDAY and campaign.offset == 0 and timing in HOURLY_TIMINGS:
        error("offset", "Say how many hours before.")
    if trigger == Trigger.ONCE and campaign.scheduled_at is None:
        error("scheduled_at", "A one-off campaign needs the date and time to send.")
    if trigger != Trigger.ONCE and campaign.scheduled_at is not None:
        error("scheduled_at", "Only a one-off campaign has a scheduled time.")
    if campaign.rate_min is not None and campaign.rate_max is not None and campaign.rate_max < campaign.rate_min:
        error("rate_max", "The highest rate is below the lowest.")
    if campaign.nights_min is not None and campaign.nights_max is not None and campaign.nights_max < campaign.nights_min:
        error("nights_max", "The most nights is below the fewest.")
    if campaign.stays_min is not None and campaign.stays_max is not None and campaign.stays_max < campaign.stays_min:
        error("stays_max", "The most stays is below the fewest.")
    if campaign.age_mode and campaign.age_min is None and campaign.age_max is None:
        error("age_min", f"“{AgeMode(campaign.age_mode).label}” needs an age band.")
    if campaign.age_min is not None and campaign.age_max is not None and campaign.age_max < campaign.age_min:
        error("age_max", "The oldest age is below the youngest.")
    if source == Source.GUESTS and any(
        getattr(campaign, f) is not None for f in ("rate_min", "rate_max", "nights_min", "nights_max")
    ):
        error("source", "Rate and nights filters need the reservations table as source.")
    overlap = set(map(str, campaign.nationalities)) & set(map(str, campaign.excluded_nationalities))
    if overlap:
        error("excluded_nationalities", f"{', '.join(sorted(overlap))} is both included and excluded.")
    return errors


def plan_errors(campaign: Campaign) -> dict[str, list[str]]:
    """Return {field: [messages]} for the delivery plan and the message variants of a saved campaign."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    steps = list(campaign.steps.select_related("account"))
    variants = list(campaign.variants.all())
    if not steps:
        error("steps", "Choose at least one channel to deliver by.")
    if not variants:
        error("variants", "Write the message in at least one language.")
    for step in steps:
        label = ContactChannel(step.channel).label
        if step.account is not None and step.account.channel != step.channel:
            error("steps", f"Step {step.position + 1}: “{step.account.name}” is a {step.account.get_channel_display()} "
                           f"account, not {label}.")
        if step.account is not None and not step.account.is_active:
            error("steps", f"Step {step.position + 1}: the account “{step.account.name}” is switched off.")
        for variant in variants:
            if step.channel == ContactChannel.WHATSAPP and not variant.whatsapp_content_sid:
                error("variants", f"[{variant.language}] a WhatsApp step needs an approved template (Content SID).")
            if step.channel == ContactChannel.EMAIL and not (variant.subject.strip() and (variant.html.strip() or variant.text.strip())):
                error("variants", f"[{variant.language}] an e-mail step needs a subject and an HTML or text body.")
            if step.channel in (ContactChannel.SMS, ContactChannel.VIBER) and not variant.text.strip():
                error("variants", f"[{variant.language}] the {label} step needs a text.")
    return errors


def campaign_validate(campaign: Campaign) -> None:
    """Raise ValidationError with every problem of the definition, the plan and the templates."""
    errors = definition_errors(campaign)
    if campaign.pk:
        for field, messages in plan_errors(campaign).items():
            errors.setdefault(field, []).extend(messages)
        from .rendering import validate_variant

        for variant in campaign.variants.all():
            try:
                validate_variant(variant)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.setdefault("variants", []).extend(f"[{variant.language}] {field}: {m}" for m in messages)
    if errors:
        raise ValidationError(errors)
