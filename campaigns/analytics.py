"""Campaign analytics (E4): what a campaign's messages became and the bookings they brought.

Reads only (selectors). Every figure comes from the send log and the reservations in a fixed
number of queries, whatever the number of runs, messages or links:

- per run and per language variant (one grouped query over the messages): recipients (one per
  record the send queued: the first step of each plan, not skipped — what the estimate and the
  send confirmation call recipients), skipped (records the sender's checks refused), sent, delivered, bounced, opened and clicked (unique:
  messages with a first human open or click), complained, unsubscribed (the recipient withdrew
  marketing consent on that channel within ``UNSUBSCRIBE_WINDOW`` of the message) and cost
  (credits of the messages a provider took);
- bookings attributed, **last touch**: a reservation counts for the campaign message that was
  the last one a campaign sent its booker before it was made, if that was at most
  ``ATTRIBUTION_WINDOW_DAYS`` earlier; so each reservation counts once, for one campaign, and
  only inside its window. Cancelled and no-show reservations bring nothing. Revenue is nights × nightly rate. The screens read the
  attributions stored when each reservation was made (``campaigns.attribution``), not the
  send log;
- clicks per link (unique messages with a human click of the link).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from channels_out.models import Engagement, EngagementKind, OutboundMessage, Status
from guests.models import ConsentPurpose, ConsentRecord, ConsentSource, Reservation

from .attribution import attribution_window, booked_within_window, counted, last_touches
from .models import BookingAttribution, Campaign, CampaignRun

ZERO = Decimal("0")
UNSUBSCRIBE_WINDOW = dt.timedelta(days=7)
OPT_OUT_SOURCES = (
    ConsentSource.UNSUBSCRIBE_LINK,
    ConsentSource.INBOUND_KEYWORD,
    ConsentSource.PROVIDER_UNSUBSCRIBE,
    ConsentSource.COMPLAINT,
)
_ACCEPTED = (Status.SENT, Status.DELIVERED, Status.UNDELIVERED)


@dataclass
class Figures:
    """One row of analytics: a run, a language, a channel, a campaign or a total."""

    recipients: int = 0
    skipped: int = 0
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    opened: int = 0
    clicked: int = 0
    complained: int = 0
    unsubscribed: int = 0
    cost: Decimal = ZERO
    bookings: int = 0
    revenue: Decimal = ZERO

    def add(self, other: Figures) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def rate(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def delivery_rate(self) -> float | None:
        return self.rate(self.delivered, self.sent)

    @property
    def open_rate(self) -> float | None:
        return self.rate(self.opened, self.sent)

    @property
    def click_rate(self) -> float | None:
        return self.rate(self.clicked, self.sent)


FIGURE_FIELDS = tuple(Figures.__dataclass_fields__)


def _run_type() -> ContentType:
    return ContentType.objects.get_for_model(CampaignRun)


def _opted_out_after() -> Exists:
    """True for a message whose guest withdrew marketing consent on its channel soon after it."""
    return Exists(
        ConsentRecord.objects.filter(
            guest=OuterRef("guest_id"),
            purpose=ConsentPurpose.MARKETING,
            channel=OuterRef("channel"),
            granted=False,
            source__in=OPT_OUT_SOURCES,
            recorded_at__gte=OuterRef("sent_at"),
            recorded_at__lt=OuterRef("sent_at") + UNSUBSCRIBE_WINDOW,
        )
    )


def message_figures(
    messages: QuerySet[OutboundMessage], *group: str, unsubscribed: bool = True
) -> dict[tuple, Figures]:
    """Figures of ``messages`` grouped by the fields ``group`` (one query). ``unsubscribed``
    False leaves out the opt-outs after each message (a lookup per message; the dashboard
    counts opt-outs from the consent records instead)."""
    extra = {}
    if unsubscribed:
        extra["unsubscribed"] = Count(
            "pk", filter=Q(sent_at__isnull=False, guest__isnull=False) & Q(_opted_out_after())
        )
    rows = (
        messages.order_by()
        .values(*group)
        .annotate(
            **extra,
            recipients=Count("pk", filter=Q(fallback_for__isnull=True) & ~Q(status=Status.SKIPPED)),
            skipped=Count("pk", filter=Q(fallback_for__isnull=True, status=Status.SKIPPED)),
            sent=Count("pk", filter=Q(status__in=_ACCEPTED)),
            delivered=Count("pk", filter=Q(status=Status.DELIVERED)),
            bounced=Count("pk", filter=Q(status=Status.UNDELIVERED)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
            complained=Count("pk", filter=Q(complained_at__isnull=False)),
            cost=Sum("credits", filter=Q(sent_at__isnull=False), default=ZERO),
        )
    )
    result: dict[tuple, Figures] = {}
    for row in rows:
        key = tuple(row[name] for name in group)
        result[key] = Figures(**{name: row[name] for name in FIGURE_FIELDS if name in row})
    return result


@dataclass(frozen=True)
class Booking:
    """A reservation attributed to a campaign message (last touch)."""

    reservation_id: int
    run_id: int
    language: str
    channel: str
    day: dt.date
    revenue: Decimal


def _revenue() -> ExpressionWrapper:
    return ExpressionWrapper(
        F("nights") * F("nightly_rate"), output_field=DecimalField(max_digits=14, decimal_places=2)
    )


def attributed_bookings(
    *, runs: QuerySet[CampaignRun] | None = None, since: dt.datetime | None = None
) -> list[Booking]:
    """Reservations attributed to messages of ``runs`` (all runs when None), made since
    ``since``, **derived** from the send log (``campaigns.attribution.last_touches``).

    The screens read the stored ``BookingAttribution`` rows instead (``stored_bookings``);
    this derivation is what they must equal (``manage.py attribution_rebuild --check`` and the
    tests compare the two).
    """
    reservations = counted(Reservation.objects.all())
    if since is not None:
        reservations = reservations.filter(created_at__gte=since)
    rows = list(
        reservations.annotate(day=TruncDate("created_at"), revenue=_revenue())
        .values_list("pk", "booker_id", "created_at", "day", "revenue")
        .order_by("created_at", "pk")
    )
    touches = last_touches([(pk, booker, created) for pk, booker, created, _, _ in rows])
    run_ids = None if runs is None else set(runs.values_list("pk", flat=True))
    window = attribution_window()
    bookings = []
    for pk, _, created_at, day, revenue in rows:
        touch = touches.get(pk)
        if touch is None or touch.sent_at <= created_at - window:
            continue
        if run_ids is None or touch.run_id in run_ids:
            bookings.append(
                Booking(pk, touch.run_id, touch.language, touch.channel, day, revenue or ZERO)
            )
    return bookings


def _stored(
    runs: QuerySet[CampaignRun] | None, since: dt.datetime | None
) -> QuerySet[BookingAttribution]:
    attributions = booked_within_window(BookingAttribution.objects.all())
    if runs is not None:
        attributions = attributions.filter(run__in=runs)
    if since is not None:
        attributions = attributions.filter(booked_at__gte=since)
    return attributions.annotate(day=TruncDate("booked_at"))


def _stored_revenue() -> ExpressionWrapper:
    return ExpressionWrapper(
        F("reservation__nights") * F("reservation__nightly_rate"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def stored_booking_figures(
    *group: str, runs: QuerySet[CampaignRun] | None = None, since: dt.datetime | None = None
) -> dict[tuple, tuple[int, Decimal]]:
    """Bookings and revenue of the stored attributions (as ``stored_bookings``) grouped by the
    fields ``group`` of ``BookingAttribution`` (or ``day``), in one query."""
    rows = (
        _stored(runs, since)
        .order_by()
        .values(*group)
        .annotate(n=Count("pk"), revenue=Sum(_stored_revenue(), default=ZERO))
    )
    return {tuple(row[name] for name in group): (row["n"], row["revenue"]) for row in rows}


def stored_bookings(
    *, runs: QuerySet[CampaignRun] | None = None, since: dt.datetime | None = None
) -> list[Booking]:
    """The same bookings as ``attributed_bookings``, read from the stored attributions (one
    query over the attributed reservations, not the send log)."""
    return [
        Booking(pk, run, language, channel, day, revenue or ZERO)
        for pk, run, language, channel, day, revenue in _stored(runs, since)
        .annotate(revenue=_stored_revenue())
        .order_by("booked_at", "pk")
        .values_list("pk", "run_id", "language", "channel", "day", "revenue")
    ]


@dataclass
class CampaignAnalytics:
    campaign: Campaign
    total: Figures
    runs: list[tuple[CampaignRun, Figures]]
    languages: list[tuple[str, Figures]]
    links: list[tuple[str, int]]
    bookings_by_day: list[tuple[dt.date, int, Decimal]]
    window_days: int = field(default_factory=lambda: settings.ATTRIBUTION_WINDOW_DAYS)


def campaign_analytics(campaign: Campaign) -> CampaignAnalytics:
    """Every figure of one campaign, per run and per language (a fixed number of queries)."""
    runs = campaign.runs.order_by("-started_at", "-pk")
    messages = OutboundMessage.objects.filter(
        origin_type=_run_type(), origin_id__in=runs.values("pk")
    )
    grouped = message_figures(messages, "origin_id", "language")
    bookings = stored_booking_figures("run_id", "language", "day", runs=runs)
    by_run: dict[int, Figures] = defaultdict(Figures)
    by_language: dict[str, Figures] = defaultdict(Figures)
    total = Figures()
    for (run_id, language), figures in grouped.items():
        by_run[run_id].add(figures)
        by_language[language or ""].add(figures)
        total.add(figures)
    per_day: dict[dt.date, list] = defaultdict(lambda: [0, ZERO])
    for (run_id, language, day), (n, revenue) in bookings.items():
        for figures in (by_run[run_id], by_language[language], total):
            figures.bookings += n
            figures.revenue += revenue
        per_day[day][0] += n
        per_day[day][1] += revenue
    links = list(
        Engagement.objects.filter(message__in=messages, kind=EngagementKind.CLICK, human=True)
        .values("url")
        .annotate(n=Count("message", distinct=True))
        .order_by("-n", "url")
        .values_list("url", "n")[:50]
    )
    run_rows = [(run, by_run.get(run.pk, Figures())) for run in runs]
    return CampaignAnalytics(
        campaign=campaign,
        total=total,
        runs=run_rows,
        languages=sorted(by_language.items()),
        links=links,
        bookings_by_day=[(day, n, revenue) for day, (n, revenue) in sorted(per_day.items())],
    )


@dataclass
class Dashboard:
    since: dt.datetime
    channels: list[tuple[str, Figures]]
    campaigns: list[tuple[Campaign, Figures]]
    total: Figures
    opt_outs: dict[str, int]

    @property
    def opt_outs_total(self) -> int:
        """Every opt-out of the period: the channels' rows add up to it."""
        return sum(self.opt_outs.values())


def manager_dashboard(*, days: int = 30, now: dt.datetime | None = None) -> Dashboard:
    """The last ``days`` days by channel and by campaign (a fixed number of queries)."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    messages = OutboundMessage.objects.filter(created_at__gte=since)
    grouped = message_figures(
        messages, "channel", "origin_type_id", "origin_id", unsubscribed=False
    )
    run_type = _run_type()
    run_ids = {origin for (_, kind, origin) in grouped if kind == run_type.pk}
    campaign_of = dict(CampaignRun.objects.filter(pk__in=run_ids).values_list("pk", "campaign_id"))
    by_channel: dict[str, Figures] = defaultdict(Figures)
    by_campaign: dict[int, Figures] = defaultdict(Figures)
    total = Figures()
    for (channel, kind, origin), figures in grouped.items():
        by_channel[channel].add(figures)
        total.add(figures)
        if kind == run_type.pk and origin in campaign_of:
            by_campaign[campaign_of[origin]].add(figures)
    bookings = stored_booking_figures("channel", "campaign_id", since=since)
    for (channel, campaign_id), (n, revenue) in bookings.items():
        for figures in (by_channel[channel], by_campaign[campaign_id], total):
            figures.bookings += n
            figures.revenue += revenue
    opt_outs = dict(
        ConsentRecord.objects.filter(
            recorded_at__gte=since,
            purpose=ConsentPurpose.MARKETING,
            granted=False,
            source__in=OPT_OUT_SOURCES,
        )
        .order_by()
        .values_list("channel")
        .annotate(n=Count("pk"))
        .values_list("channel", "n")
    )
    for channel in opt_outs:
        # A channel guests opted out of with no message in the period still has its row.
        by_channel.setdefault(channel, Figures())
    campaigns = {c.pk: c for c in Campaign.objects.filter(pk__in=by_campaign)}
    ranked = sorted(
        ((campaigns[pk], figures) for pk, figures in by_campaign.items() if pk in campaigns),
        key=lambda item: (-item[1].revenue, -item[1].sent, item[0].name),
    )
    return Dashboard(
        since=since,
        channels=sorted(by_channel.items()),
        campaigns=ranked,
        total=total,
        opt_outs=opt_outs,
    )
