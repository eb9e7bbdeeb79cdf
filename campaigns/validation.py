"""What makes a campaign definition sendable (C1–C6): clear messages, per field."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from guests.models import ConsentPurpose, ContactChannel, Reservation

from .models import (
    EVENT_TRIGGERS,
    FACILITY_EVENTS,
    RESERVATION_EVENTS,
    AgeMode,
    Campaign,
    MessageVariant,
    Recipients,
    Source,
    StayChange,
    Timing,
    Trigger,
)
from .rendering import validate_variant
from .survey import survey_url_errors

RESERVATION_TIMINGS = frozenset(
    {
        Timing.DAYS_BEFORE_ARRIVAL,
        Timing.ARRIVAL_DAY,
        Timing.DAYS_AFTER_ARRIVAL,
        Timing.DAYS_BEFORE_DEPARTURE,
        Timing.DAYS_AFTER_DEPARTURE,
        Timing.HOURS_BEFORE_ARRIVAL,
        Timing.HOURS_AFTER_CHECK_OUT,
    }
)
FACILITY_TIMINGS = frozenset(
    {Timing.HOURS_BEFORE_START, Timing.DAYS_BEFORE_START, Timing.DAYS_AFTER_START}
)
HOURLY_TIMINGS = frozenset(
    {Timing.HOURS_BEFORE_ARRIVAL, Timing.HOURS_AFTER_CHECK_OUT, Timing.HOURS_BEFORE_START}
)
DAILY_TIMINGS = frozenset(
    {
        Timing.DAYS_BEFORE_ARRIVAL,
        Timing.ARRIVAL_DAY,
        Timing.DAYS_AFTER_ARRIVAL,
        Timing.DAYS_BEFORE_DEPARTURE,
        Timing.DAYS_AFTER_DEPARTURE,
        Timing.DAYS_BEFORE_START,
        Timing.DAYS_AFTER_START,
        Timing.BIRTHDAY,
    }
)
FACILITY_SOURCES = frozenset({Source.SPA, Source.FACILITY})


def definition_errors(campaign: Campaign) -> dict[str, list[str]]:
    """Return {field: [messages]} for what is wrong with the campaign's own fields."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if campaign.valid_from and campaign.valid_until and campaign.valid_until < campaign.valid_from:
        error("valid_until", _("The validity range ends before it starts."))
    trigger, timing, source = campaign.trigger, campaign.timing, campaign.source
    if trigger in RESERVATION_EVENTS and source != Source.RESERVATIONS:
        error(
            "source",
            _("“%(trigger)s” happens to reservations: choose the reservations table.")
            % {"trigger": Trigger(trigger).label},
        )
    if trigger in FACILITY_EVENTS and source not in FACILITY_SOURCES:
        error(
            "source",
            _(
                "“%(trigger)s” happens to facility bookings: choose the spa or event/facility reservations table."
            )
            % {"trigger": Trigger(trigger).label},
        )
    if campaign.recipients != Recipients.BOOKER and source != Source.RESERVATIONS:
        error(
            "recipients",
            _("Only a stay has companions: the recipients need the reservations table."),
        )
    for message in survey_url_errors(campaign.survey_url):
        error("survey_url", message)
    changes = list(campaign.stay_changes or [])
    if any(kind not in StayChange.values for kind in changes):
        error("stay_changes", _("Unknown kind of change: %(values)s.") % {"values": changes})
    elif changes and trigger != Trigger.RESERVATION_MODIFIED:
        error(
            "stay_changes",
            _("Only a “reservation modified” campaign listens to changes; leave them empty."),
        )
    if trigger in EVENT_TRIGGERS and timing:
        error(
            "timing",
            _("“%(trigger)s” sends at the moment it happens; leave the timing empty.")
            % {"trigger": Trigger(trigger).label},
        )
    if timing in HOURLY_TIMINGS and trigger != Trigger.HOURLY:
        error(
            "timing", _("“%(timing)s” needs the hourly trigger.") % {"timing": Timing(timing).label}
        )
    if timing in DAILY_TIMINGS and trigger != Trigger.DAILY:
        error(
            "timing", _("“%(timing)s” needs the daily trigger.") % {"timing": Timing(timing).label}
        )
    if timing in RESERVATION_TIMINGS and source != Source.RESERVATIONS:
        error(
            "timing",
            _("“%(timing)s” needs the reservations table as source.")
            % {"timing": Timing(timing).label},
        )
    if timing in FACILITY_TIMINGS and source not in FACILITY_SOURCES:
        error(
            "timing",
            _("“%(timing)s” needs the spa or event/facility reservations table as source.")
            % {"timing": Timing(timing).label},
        )
    if trigger == Trigger.HOURLY and source == Source.GUESTS:
        error(
            "trigger",
            _(
                "Guests have no hours to count from: an hourly campaign needs reservations or facility bookings."
            ),
        )
    if timing == Timing.BIRTHDAY and source != Source.GUESTS:
        error("timing", _("Birthday wishes go to guests: choose the guests table."))
    if campaign.offset == 0 and timing == Timing.HOURS_AFTER_CHECK_OUT:
        error("offset", _("Say how many hours after."))
    elif campaign.offset == 0 and timing in HOURLY_TIMINGS:
        error("offset", _("Say how many hours before."))
    if campaign.offset == 0 and timing == Timing.DAYS_AFTER_ARRIVAL:
        error("offset", _("Say how many days after arrival; on the day itself is its own timing."))
    if campaign.send_time is not None and trigger != Trigger.DAILY:
        error("send_time", _("Only a daily campaign has a send time."))
    if trigger == Trigger.ONCE and campaign.scheduled_at is None:
        error("scheduled_at", _("A one-off campaign needs the date and time to send."))
    if trigger != Trigger.ONCE and campaign.scheduled_at is not None:
        error("scheduled_at", _("Only a one-off campaign has a scheduled time."))
    if (
        campaign.rate_min is not None
        and campaign.rate_max is not None
        and campaign.rate_max < campaign.rate_min
    ):
        error("rate_max", _("The highest rate is below the lowest."))
    if (
        campaign.nights_min is not None
        and campaign.nights_max is not None
        and campaign.nights_max < campaign.nights_min
    ):
        error("nights_max", _("The most nights is below the fewest."))
    if (
        campaign.stays_min is not None
        and campaign.stays_max is not None
        and campaign.stays_max < campaign.stays_min
    ):
        error("stays_max", _("The most stays is below the fewest."))
    if campaign.age_mode and campaign.age_min is None and campaign.age_max is None:
        error(
            "age_min",
            _("“%(mode)s” needs an age band.") % {"mode": AgeMode(campaign.age_mode).label},
        )
    if (
        campaign.age_min is not None
        and campaign.age_max is not None
        and campaign.age_max < campaign.age_min
    ):
        error("age_max", _("The oldest age is below the youngest."))
    if source == Source.GUESTS and any(
        getattr(campaign, f) is not None
        for f in ("rate_min", "rate_max", "nights_min", "nights_max")
    ):
        error("source", _("Rate and nights filters need the reservations table as source."))
    statuses = list(campaign.reservation_statuses or [])
    unknown = [value for value in statuses if value not in Reservation.Status.values]
    if unknown:
        error(
            "reservation_statuses",
            _("Unknown reservation status: %(values)s.") % {"values": ", ".join(map(str, unknown))},
        )
    elif statuses and source != Source.RESERVATIONS:
        error(
            "reservation_statuses",
            _("A reservation status filter needs the reservations table as source."),
        )
    elif statuses and trigger == Trigger.NO_SHOW and statuses != [Reservation.Status.NO_SHOW]:
        error(
            "reservation_statuses",
            _("A no-show campaign reaches no-show stays only; leave the statuses empty."),
        )
    elif (
        statuses and trigger == Trigger.CANCELLATION and statuses != [Reservation.Status.CANCELLED]
    ):
        error(
            "reservation_statuses",
            _("A cancellation campaign reaches cancelled stays only; leave the statuses empty."),
        )
    overlap = set(map(str, campaign.nationalities)) & set(map(str, campaign.excluded_nationalities))
    if overlap:
        error(
            "excluded_nationalities",
            _("%(countries)s is both included and excluded.")
            % {"countries": ", ".join(sorted(overlap))},
        )
    return errors


TEXT_CHANNELS = frozenset({ContactChannel.SMS, ContactChannel.VIBER})


def channels_lacking_text(variant: MessageVariant, channels: Iterable[str]) -> list[str]:
    """Return the channels among ``channels`` that send ``variant``'s text when it has none
    (SMS and Viber send the text; e-mail and WhatsApp have their own parts)."""
    if (variant.text or "").strip():
        return []
    return [channel for channel in dict.fromkeys(channels) if channel in TEXT_CHANNELS]


def plan_errors(campaign: Campaign) -> dict[str, list[str]]:
    """Return {field: [messages]} for the delivery plan and the message variants of a saved campaign."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    steps = campaign.plan_steps()
    variants = campaign.message_variants()
    if not steps:
        error("steps", _("Choose at least one channel to deliver by."))
    if not variants:
        error("variants", _("Write the message in at least one language."))
    for step in steps:
        label = ContactChannel(step.channel).label
        if step.account is not None and step.account.channel != step.channel:
            error(
                "steps",
                _("Step %(n)s: “%(account)s” is a %(channel)s account, not %(wanted)s.")
                % {
                    "n": step.position + 1,
                    "account": step.account.name,
                    "channel": step.account.get_channel_display(),
                    "wanted": label,
                },
            )
        if step.account is not None and not step.account.is_active:
            error(
                "steps",
                _("Step %(n)s: the account “%(account)s” is switched off.")
                % {"n": step.position + 1, "account": step.account.name},
            )
        for variant in variants:
            if step.channel == ContactChannel.WHATSAPP and not variant.whatsapp_content_sid:
                error(
                    "variants",
                    _("[%(language)s] a WhatsApp step needs an approved template (Content SID).")
                    % {"language": variant.language},
                )
            if step.channel == ContactChannel.EMAIL and not (
                variant.subject.strip() and (variant.html.strip() or variant.text.strip())
            ):
                error(
                    "variants",
                    _("[%(language)s] an e-mail step needs a subject and an HTML or text body.")
                    % {"language": variant.language},
                )
            if channels_lacking_text(variant, [step.channel]):
                error(
                    "variants",
                    _("[%(language)s] the %(channel)s step needs a text.")
                    % {"language": variant.language, "channel": label},
                )
    return errors


def plan_notes(campaign: Campaign) -> list[str]:
    """Return what staff should know about a campaign that does not keep it from sending: a
    marketing WhatsApp step sends the approved template as written, with no opt-out line added
    by us (``channels_out.opt_out``), so the template must carry its own (P3)."""
    if campaign.purpose != ConsentPurpose.MARKETING:
        return []
    if not any(step.channel == ContactChannel.WHATSAPP for step in campaign.plan_steps()):
        return []
    return [
        str(
            _(
                "The WhatsApp step sends the approved template as written: no opt-out line is "
                "added to it, so the template must carry its own (a STOP quick-reply button or "
                "a line such as “Reply STOP to opt out”), as Meta requires of marketing "
                "templates."
            )
        )
    ]


def campaign_validate(campaign: Campaign) -> None:
    """Raise ValidationError with every problem of the definition, the plan and the templates."""
    errors = definition_errors(campaign)
    if campaign.pk or campaign.is_draft:
        for field, messages in plan_errors(campaign).items():
            errors.setdefault(field, []).extend(messages)
        for variant in campaign.message_variants():
            try:
                validate_variant(variant)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.setdefault("variants", []).extend(
                        f"[{variant.language}] {field}: {m}" for m in messages
                    )
    if errors:
        raise ValidationError(errors)
