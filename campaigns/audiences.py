"""Who a campaign reaches at an occurrence: its source, timing window and filters as one QuerySet.

``audience`` is the only place a campaign's "who" is decided; preview counts, preview lists,
cost estimates and sending all evaluate the QuerySet it returns. Building it reads the
campaign's configuration (one query for all its many-to-many filters unless prefetched,
plus the first step when communication consent is required and the house check-in time
for hour-before-arrival windows); evaluating it is one SQL query, run when the caller
evaluates it, so the audience is never frozen (C7).

Stay filters (C4) narrow by the stay: the reservation itself, the facility booking's linked
stay (bookings without one fail any stay filter), or for the guests source any of the
guest's bookings that was not cancelled. Facility-type filters (C6) narrow facility bookings
directly, a reservation by its linked bookings and a guest by any booking. Guest filters (C5)
apply to the record's guest: the reservation's booker or the booking's guest.

A reservations campaign that writes to more of the stay than the booker (``Recipients``:
every adult, each with his own contact) judges the guest filters — nationality, repeat
guests, age band, birthday, gender, VIP, loyalty, number of stays, balance, language and the
required consents, everything of ``person_filters`` — on each person: the stay is in the
audience when at least one of its people passes (the booker, or a companion who could be
written to: an adult for *every adult*), and ``campaigns.services.compose.stay_recipients``
writes only to those who pass, the booker included. The stay's own filters (timing, status,
rate, nights, stay type, agency, segment, board, room type, source channel, facility
types) stay the stay's.

Whether a guest *may* be messaged on a channel (consent, opt-out, greylist) is the one rule
of ``guests.selectors.block_reason_expression``; ``recipients`` annotates
every record with it, so the sender can skip with a reason instead of losing people silently.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext

from guests.models import (
    ConsentPurpose,
    FacilityBooking,
    FacilityType,
    Guest,
    Reservation,
)
from guests.selectors import (
    block_reason_expression,
    greylisted_expression,
    latest_granted,
)

from .models import (
    FACILITY_EVENTS,
    M2M_FILTERS,
    AgeMode,
    BirthdayFilter,
    Campaign,
    CampaignSettings,
    Recipients,
    Source,
    Timing,
    Trigger,
)
from .occurrences import Occurrence, OccurrenceKind

if TYPE_CHECKING:
    from collections.abc import Iterable

ARRIVAL_TIMINGS = frozenset(
    {
        Timing.DAYS_BEFORE_ARRIVAL,
        Timing.ARRIVAL_DAY,
        Timing.DAYS_AFTER_ARRIVAL,
        Timing.DAYS_BEFORE_DEPARTURE,
        Timing.HOURS_BEFORE_ARRIVAL,
        Timing.DAYS_AFTER_DEPARTURE,
        Timing.HOURS_AFTER_CHECK_OUT,
    }
)
START_TIMINGS = frozenset(
    {Timing.HOURS_BEFORE_START, Timing.DAYS_BEFORE_START, Timing.DAYS_AFTER_START}
)

# The many-to-many filters and the plan; prefetch them
# (``Campaign.objects.prefetch_related(*AUDIENCE_PREFETCH)``) when building many audiences to
# spare the one query per campaign.
AUDIENCE_PREFETCH = (*M2M_FILTERS, "steps")

# Stay filter -> the reservation's foreign key it narrows.
_STAY_FKS = {
    "stay_types": "stay_type",
    "agencies": "agency",
    "market_segments": "market_segment",
    "board_types": "board_type",
    "room_types": "room_type",
    "source_channels": "source_channel",
}
_INACTIVE_STAY = (Reservation.Status.CANCELLED, Reservation.Status.NO_SHOW)
# "Every adult guest of the stay": companions this old or older (or of unknown age).
ADULT_AGE = 18


class AudienceError(ValueError):
    """The campaign cannot have an audience as configured (e.g. an arrival timing on spa bookings)."""


def audience_guest_field(campaign: Campaign) -> str:
    """Return the path from an audience record to its guest: "", "booker" or "guest"."""
    if campaign.source == Source.GUESTS:
        return ""
    if campaign.source == Source.RESERVATIONS:
        return "booker"
    return "guest"


def audience(campaign: Campaign, occurrence: Occurrence) -> QuerySet[Any]:
    """Return the records ``campaign`` reaches at ``occurrence``, as one lazy QuerySet.

    The model is the campaign's source: Guest, Reservation or FacilityBooking (spa kinds for
    "spa", every other kind for "facility"), with what rendering needs select_related.
    Raises AudienceError when the timing does not fit the source.
    """
    _check_timing(campaign)
    ids = _m2m_ids(campaign)
    queryset, prefix = _records(campaign), ""
    per_person = judged_per_person(campaign)
    if (guest_field := audience_guest_field(campaign)) and not per_person:
        # Guest filters go through one named join, so the consent and greylist subqueries
        # correlate on the joined guest row and PostgreSQL runs them after the guest's own
        # filters, as hand-written SQL would; through ``booker__pk`` Django would correlate
        # on the reservation's booker_id and PostgreSQL would run them for every stay.
        # (A listing joins the guest a second time for select_related; count() does not.)
        queryset, prefix = (
            queryset.alias(audience_guest=FilteredRelation(guest_field)),
            "audience_guest__",
        )
    if occurrence.kind == OccurrenceKind.EVENT:
        moment = _event_record(campaign, occurrence)
    else:
        moment = _window(campaign, occurrence, prefix)
    consent = _guest_conditions(campaign, occurrence, prefix)
    if consent is None:
        return queryset.none()
    people = (
        _anyone_of_the_stay(campaign, occurrence, ids)
        if per_person
        else _guest_filters(campaign, ids, occurrence.day, prefix) & consent
    )
    # One filter() call: building the audience is cheap next to running it.
    return queryset.filter(
        _source_statuses(campaign),
        moment,
        _stay_filters(campaign, ids),
        _facility_filters(campaign, ids),
        people,
    )


def judged_per_person(campaign: Campaign) -> bool:
    """Whether the guest filters are judged on each person of the stay (a reservations
    campaign writing to more than the booker) rather than on the record's guest."""
    return campaign.source == Source.RESERVATIONS and campaign.recipients != Recipients.BOOKER


def person_filters(campaign: Campaign, occurrence: Occurrence) -> Q | None:
    """The audience's filters on one person, on ``Guest`` rows: the guest filters (C4
    nationality and repeat guests, C5) and the required consents; None: nobody qualifies."""
    consent = _guest_conditions(campaign, occurrence, "")
    if consent is None:
        return None
    return _guest_filters(campaign, _m2m_ids(campaign), occurrence.day, "") & consent


def _anyone_of_the_stay(campaign: Campaign, occurrence: Occurrence, ids: dict[str, list[int]]) -> Q:
    """A stay at least one of whose people passes the guest filters: its booker, or a
    companion the campaign may write to (an adult on the day for *every adult*)."""
    consent = _guest_conditions(campaign, occurrence, "")
    assert consent is not None  # the caller returned none() already
    companion = Q(companion_links__reservation=OuterRef("pk"))
    if campaign.recipients == Recipients.ADULTS:
        companion &= Q(birth_date__isnull=True) | Q(
            birth_date__lte=_born_by(occurrence.day, ADULT_AGE)
        )
    people = Guest.objects.filter(Q(pk=OuterRef("booker_id")) | companion).filter(
        _guest_filters(campaign, ids, occurrence.day, ""), consent
    )
    return Q(Exists(people))


def recipients(
    campaign: Campaign, occurrence: Occurrence, *, channel: str | None = None
) -> QuerySet[Any]:
    """Return ``audience`` annotated with ``block_reason``: "" when its guest may get the message.

    The reason is the project's one consent/greylist rule for the campaign's purpose on
    ``channel`` (default: the first step's), so preview, cost estimate and sender agree.
    Raises AudienceError when no channel is given and the campaign has no step.
    """
    channel = channel or _first_channel(campaign)
    if not channel:
        raise AudienceError(
            gettext(
                "Campaign %(campaign)s has no delivery step, so no channel to check consent for."
            )
            % {"campaign": campaign}
        )
    reason = block_reason_expression(purpose=campaign.purpose, channel=channel, at=occurrence.at)
    queryset = audience(campaign, occurrence)
    guest_field = audience_guest_field(campaign)
    if not guest_field:
        return queryset.annotate(block_reason=reason)
    of_guest = (
        Guest.objects.filter(pk=OuterRef(f"{guest_field}_id"))
        .order_by()
        .annotate(r=reason)
        .values("r")[:1]
    )
    return queryset.annotate(block_reason=Subquery(of_guest))


# --- source and configuration -------------------------------------------------------------------
def _check_timing(campaign: Campaign) -> None:
    if campaign.timing in ARRIVAL_TIMINGS and campaign.source != Source.RESERVATIONS:
        raise AudienceError(
            gettext("“%(timing)s” needs the reservations source.")
            % {"timing": campaign.get_timing_display()}
        )
    if campaign.timing in START_TIMINGS and campaign.source not in (Source.SPA, Source.FACILITY):
        raise AudienceError(
            gettext("“%(timing)s” needs a spa or facility source.")
            % {"timing": campaign.get_timing_display()}
        )


def _m2m_ids(campaign: Campaign) -> dict[str, list[int]]:
    """Return the ids chosen in each many-to-many filter, in one query (none when prefetched)."""
    cache = getattr(campaign, "_prefetched_objects_cache", {})
    if all(name in cache for name in M2M_FILTERS):
        return {name: [obj.pk for obj in cache[name]] for name in M2M_FILTERS}
    parts = []
    for name in M2M_FILTERS:
        field = Campaign._meta.get_field(name)
        through = field.remote_field.through  # type: ignore[union-attr]
        parts.append(
            through.objects.filter(**{field.m2m_field_name(): campaign.pk})  # type: ignore[union-attr]
            .annotate(filter_name=Value(name))
            .values_list("filter_name", field.m2m_reverse_field_name())  # type: ignore[union-attr]
        )
    ids: dict[str, list[int]] = {name: [] for name in M2M_FILTERS}
    for name, pk in parts[0].union(*parts[1:], all=True):
        ids[name].append(pk)
    return ids


def _first_channel(campaign: Campaign) -> str:
    steps = campaign.plan_steps()
    return steps[0].channel if steps else ""


def _records(campaign: Campaign) -> QuerySet[Any]:
    """The source table, with what rendering a message needs joined in."""
    if campaign.source == Source.GUESTS:
        return Guest.objects.select_related("loyalty_tier")
    if campaign.source == Source.RESERVATIONS:
        stays = Reservation.objects.select_related("booker", "room_type", "board_type")
        if campaign.recipients != Recipients.BOOKER:
            # The companions are read with the stays a chunk at a time, not one query each.
            stays = stays.prefetch_related("companions")
        return stays
    return FacilityBooking.objects.select_related("guest", "facility__facility_type")


def _source_statuses(campaign: Campaign) -> Q:
    """Which records of the source can be messaged at all."""
    if campaign.source == Source.GUESTS:
        return Q()
    if campaign.source == Source.RESERVATIONS:
        if campaign.trigger == Trigger.CANCELLATION:
            return Q(send_notifications=True, status=Reservation.Status.CANCELLED)
        if campaign.trigger == Trigger.NO_SHOW:
            return Q(send_notifications=True, status=Reservation.Status.NO_SHOW)
        if campaign.reservation_statuses:
            return Q(send_notifications=True, status__in=list(campaign.reservation_statuses))
        return Q(send_notifications=True) & ~Q(status__in=_INACTIVE_STAY)
    spa = Q(facility__facility_type__kind=FacilityType.Kind.SPA)
    statuses = [FacilityBooking.Status.BOOKED]
    if campaign.trigger == Trigger.FACILITY_CANCELLED:
        statuses = [FacilityBooking.Status.CANCELLED]
    elif campaign.timing == Timing.DAYS_AFTER_START:
        statuses.append(FacilityBooking.Status.ATTENDED)
    # A booking on a stay whose notifications are off is that stay's business too.
    return (
        (spa if campaign.source == Source.SPA else ~spa)
        & Q(status__in=statuses)
        & ~Q(reservation__send_notifications=False)
    )


def _event_record(campaign: Campaign, occurrence: Occurrence) -> Q:
    """Events happen to a reservation — the reservation, its booker, or the bookings on that
    stay — or to a facility booking: that booking."""
    record_id = occurrence.record_id
    assert record_id is not None  # an event occurrence always names its record
    if occurrence.trigger in FACILITY_EVENTS:
        if campaign.source in (Source.SPA, Source.FACILITY):
            return Q(pk=record_id)
        return Q(pk__in=[])
    if campaign.source == Source.RESERVATIONS:
        return Q(pk=record_id)
    if campaign.source == Source.GUESTS:
        return Q(Exists(Reservation.objects.filter(pk=record_id, booker=OuterRef("pk"))))
    return Q(reservation_id=record_id)


# --- timing windows (C3, C6) ---------------------------------------------------------------------
def _window(campaign: Campaign, occurrence: Occurrence, guest_prefix: str) -> Q:
    n, day, hour = campaign.offset, occurrence.day, occurrence.window_hour
    timing, catch_up = campaign.timing, campaign.catch_up
    confirmed, in_house = Reservation.Status.CONFIRMED, Reservation.Status.CHECKED_IN
    if timing == Timing.DAYS_BEFORE_ARRIVAL:
        if catch_up:
            return Q(arrival__range=(day, day + dt.timedelta(days=n)), status=confirmed)
        return Q(arrival=day + dt.timedelta(days=n))
    if timing == Timing.ARRIVAL_DAY:
        return Q(arrival=day)
    if timing == Timing.DAYS_AFTER_ARRIVAL:
        # Mid-stay: guests in house whose Nth day it is; catch-up also those checked in late
        # whose moment has passed, while they are still in house.
        arrived = day - dt.timedelta(days=n)
        window = Q(arrival__lte=arrived) if catch_up else Q(arrival=arrived)
        return window & Q(departure__gt=day, status=in_house)
    if timing == Timing.DAYS_BEFORE_DEPARTURE:
        leaving = day + dt.timedelta(days=n)
        window = Q(departure__range=(day, leaving)) if catch_up else Q(departure=leaving)
        return window & Q(status__in=(confirmed, in_house))
    if timing == Timing.DAYS_AFTER_DEPARTURE:
        return Q(departure=day - dt.timedelta(days=n), status=Reservation.Status.CHECKED_OUT)
    if timing == Timing.HOURS_AFTER_CHECK_OUT:
        # Checked out in the hour N hours back; catch-up also in the day before it (missed ticks).
        since = hour - dt.timedelta(hours=n)
        earliest = since - dt.timedelta(days=1) if catch_up else since
        return Q(
            checked_out_at__gte=earliest,
            checked_out_at__lt=since + dt.timedelta(hours=1),
            status=Reservation.Status.CHECKED_OUT,
        )
    if timing == Timing.HOURS_BEFORE_ARRIVAL:
        ahead = dt.timedelta(hours=n)
        if catch_up:
            # Moment (arrival - N h) before the hour ends, arrival itself still ahead.
            dates = _arrival_dates(hour, hour + ahead + dt.timedelta(hours=1), open_start=True)
            return Q(arrival__in=dates, status=confirmed)
        return Q(arrival__in=_arrival_dates(hour + ahead, hour + ahead + dt.timedelta(hours=1)))
    if timing == Timing.HOURS_BEFORE_START:
        ahead = dt.timedelta(hours=n)
        end = hour + ahead + dt.timedelta(hours=1)
        if catch_up:
            return Q(starts_at__gt=hour, starts_at__lt=end)
        return Q(starts_at__gte=hour + ahead, starts_at__lt=end)
    if timing == Timing.DAYS_BEFORE_START:
        first = day if catch_up else day + dt.timedelta(days=n)
        return _starts_on(first, day + dt.timedelta(days=n))
    if timing == Timing.DAYS_AFTER_START:
        return _starts_on(day - dt.timedelta(days=n), day - dt.timedelta(days=n))
    if timing == Timing.BIRTHDAY:
        return _birthday_on(day, guest_prefix)
    return Q()


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _starts_on(first: dt.date, last: dt.date) -> Q:
    """Bookings starting on a hotel-local date from ``first`` to ``last``; bounds are computed here, so the index serves."""
    return Q(
        starts_at__gte=_local_midnight(first),
        starts_at__lt=_local_midnight(last + dt.timedelta(days=1)),
    )


def _arrival_dates(
    start: dt.datetime, end: dt.datetime, *, open_start: bool = False
) -> list[dt.date]:
    """Return the arrival dates whose check-in moment falls in [start, end) — (start, end) if open_start."""
    check_in = CampaignSettings.load().arrival_time
    if isinstance(
        check_in, str
    ):  # a freshly created settings row still holds the field's string default
        check_in = dt.time.fromisoformat(check_in)
    first = timezone.localdate(start) - dt.timedelta(days=1)
    days = (timezone.localdate(end) - first).days + 2
    dates = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        moment = timezone.make_aware(dt.datetime.combine(day, check_in))
        if (start < moment if open_start else start <= moment) and moment < end:
            dates.append(day)
    return dates


def _birthday_on(day: dt.date, prefix: str) -> Q:
    """Guests whose birthday (ignoring the year) is ``day``; 29 February counts on 28 February in common years."""
    q = Q(**{f"{prefix}birth_date__month": day.month, f"{prefix}birth_date__day": day.day})
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        q |= Q(**{f"{prefix}birth_date__month": 2, f"{prefix}birth_date__day": 29})
    return q


# --- filters (C4–C6) -----------------------------------------------------------------------------
def _stay_filters(campaign: Campaign, ids: dict[str, list[int]]) -> Q:
    prefix = "reservation__" if campaign.source in (Source.SPA, Source.FACILITY) else ""
    q = Q()
    if campaign.rate_min is not None:
        q &= Q(**{f"{prefix}nightly_rate__gte": campaign.rate_min})
    if campaign.rate_max is not None:
        q &= Q(**{f"{prefix}nightly_rate__lte": campaign.rate_max})
    if campaign.nights_min is not None:
        q &= Q(**{f"{prefix}nights__gte": campaign.nights_min})
    if campaign.nights_max is not None:
        q &= Q(**{f"{prefix}nights__lte": campaign.nights_max})
    for name, fk in _STAY_FKS.items():
        if ids[name]:
            q &= Q(**{f"{prefix}{fk}__in": ids[name]})
    if q and campaign.source == Source.GUESTS:
        stays = Reservation.objects.filter(booker=OuterRef("pk")).exclude(status__in=_INACTIVE_STAY)
        return Q(Exists(stays.filter(q)))
    return q


def _facility_filters(campaign: Campaign, ids: dict[str, list[int]]) -> Q:
    types = ids["facility_types"]
    if not types:
        return Q()
    if campaign.source in (Source.SPA, Source.FACILITY):
        return Q(facility__facility_type__in=types)
    bookings = FacilityBooking.objects.filter(facility__facility_type__in=types)
    if campaign.source == Source.RESERVATIONS:
        return Q(Exists(bookings.filter(reservation=OuterRef("pk"))))
    return Q(Exists(bookings.filter(guest=OuterRef("pk"))))


def _guest_filters(campaign: Campaign, ids: dict[str, list[int]], day: dt.date, p: str) -> Q:
    """The guest's own columns (C4 nationality and repeat guests, C5), reached through ``p``."""
    q = Q()
    if campaign.nationalities:
        q &= Q(**{f"{p}nationality__in": _codes(campaign.nationalities)})
    if campaign.excluded_nationalities:
        q &= ~Q(**{f"{p}nationality__in": _codes(campaign.excluded_nationalities)})
    if campaign.repeat_guests_only:
        # A checked-out stay already counts itself: "repeat" means another one before it.
        leaving = campaign.trigger == Trigger.CHECK_OUT or campaign.timing in (
            Timing.DAYS_AFTER_DEPARTURE,
            Timing.HOURS_AFTER_CHECK_OUT,
        )
        q &= Q(**{f"{p}stay_count__gte": Guest.repeat_threshold(this_stay_completed=leaving)})
    q &= _age_band(campaign, day, p)
    if campaign.birthday == BirthdayFilter.TODAY:
        q &= _birthday_on(day, p)
    elif campaign.birthday == BirthdayFilter.THIS_MONTH:
        q &= Q(**{f"{p}birth_date__month": day.month})
    elif campaign.birthday == BirthdayFilter.NEXT_MONTH:
        q &= Q(**{f"{p}birth_date__month": day.month % 12 + 1})
    if campaign.genders:
        q &= Q(**{f"{p}gender__in": campaign.genders})
    if campaign.vip_min is not None:
        q &= Q(**{f"{p}vip_level__gte": campaign.vip_min})
    if ids["loyalty_tiers"]:
        q &= Q(**{f"{p}loyalty_tier__in": ids["loyalty_tiers"]})
    elif campaign.loyalty_members_only:
        q &= Q(**{f"{p}loyalty_tier__isnull": False})
    if campaign.stays_min is not None:
        q &= Q(**{f"{p}stay_count__gte": campaign.stays_min})
    if campaign.stays_max is not None:
        q &= Q(**{f"{p}stay_count__lte": campaign.stays_max})
    if campaign.balance_min is not None:
        q &= Q(**{f"{p}outstanding_balance__gte": campaign.balance_min})
    if campaign.languages:
        q &= Q(**{f"{p}language__in": campaign.languages})
    return q


def _codes(countries: Iterable[Any]) -> list[str]:
    return [getattr(country, "code", country) for country in countries]


def _born_by(day: dt.date, years: int) -> dt.date:
    """The latest birth date of someone at least ``years`` old on ``day`` (29 Feb -> 28 Feb)."""
    year = day.year - years
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return day.replace(year=year)


def _age_band(campaign: Campaign, day: dt.date, p: str) -> Q:
    """Ages ``age_min``..``age_max`` (inclusive) on ``day``, as a birth-date range the index can use."""
    if not campaign.age_mode or (campaign.age_min is None and campaign.age_max is None):
        return Q()
    band = Q(**{f"{p}birth_date__isnull": False})
    if campaign.age_min is not None:
        band &= Q(**{f"{p}birth_date__lte": _born_by(day, campaign.age_min)})
    if campaign.age_max is not None:
        band &= Q(**{f"{p}birth_date__gt": _born_by(day, campaign.age_max + 1)})
    if campaign.age_mode == AgeMode.INCLUDE:
        return band
    # Without a birth date nobody can say the guest is in the excluded band: keep him.
    return Q(**{f"{p}birth_date__isnull": True}) | ~band


def _guest_conditions(campaign: Campaign, occurrence: Occurrence, p: str) -> Q | None:
    """The consent and greylist filters, subqueries correlated on the guest; None: nobody qualifies.

    Data-processing consent required: the latest data-processing statement is a grant.
    Communication consent required: the latest statement for the campaign's purpose on
    the first step's channel is a grant (no step: nobody qualifies). Greylisted excluded:
    no entry in force at the occurrence; it applies to service campaigns too when set,
    although the sending rule itself lets service messages through a greylist.
    """
    channel = _first_channel(campaign) if campaign.require_channel_consent else ""
    if campaign.require_channel_consent and not channel:
        return None
    guest = OuterRef(f"{p}pk")
    q = Q()
    if campaign.require_data_consent:
        q &= Q(Exact(latest_granted(ConsentPurpose.DATA_PROCESSING, "", guest), True))
    if channel:
        q &= Q(Exact(latest_granted(campaign.purpose, channel, guest), True))
    if campaign.exclude_greylisted:
        q &= ~Q(greylisted_expression(occurrence.at, guest))
    return q


__all__ = [
    "ADULT_AGE",
    "AUDIENCE_PREFETCH",
    "AudienceError",
    "audience",
    "audience_guest_field",
    "judged_per_person",
    "person_filters",
    "recipients",
]
