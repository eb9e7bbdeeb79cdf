"""Reads of the sender layer: balance, the period report (K4), a guest's history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from guests.models import ContactChannel, Guest, Reservation

from .models import (
    CreditBalance,
    Hold,
    LedgerEntry,
    MessagingPolicy,
    OutboundMessage,
    Status,
    Suppression,
)
from .origins import origin_labels
from .policy import recipient_timezones

ZERO = Decimal("0")


@dataclass(frozen=True)
class BalanceView:
    available: Decimal
    reserved: Decimal
    threshold: Decimal

    @property
    def is_low(self) -> bool:
        return self.available < self.threshold


def credit_balance() -> BalanceView:
    """Return the balance and whether it is under the low-balance threshold (K5)."""
    balance = CreditBalance.load()
    return BalanceView(
        balance.available, balance.reserved, MessagingPolicy.load().low_balance_threshold
    )


@dataclass(frozen=True)
class CreditAlert:
    """A crossing managers are told about (K5): ``kind`` "low" or "exhausted", since ``since``."""

    kind: str
    since: dt.datetime
    available: Decimal
    threshold: Decimal

    @property
    def key(self) -> str:
        """Names this crossing (a later crossing of the same kind has another key)."""
        return f"{self.kind}:{self.since.isoformat()}"


def credit_alerts() -> list[CreditAlert]:
    """Return the crossings in force: sends stopped for want of credits, then credits low."""
    balance = CreditBalance.load()
    if balance.low_since is None and balance.exhausted_since is None:
        return []
    threshold = MessagingPolicy.load().low_balance_threshold
    return [
        CreditAlert(kind, since, balance.available, threshold)
        for kind, since in (("exhausted", balance.exhausted_since), ("low", balance.low_since))
        if since is not None
    ]


@dataclass(frozen=True)
class ReportRow:
    label: str
    messages: int
    credits: Decimal


@dataclass
class CreditReport:
    """Credits over a period (K4). Balances count credits owned: available plus held."""

    start: dt.date
    end: dt.date
    opening: Decimal = ZERO
    bought: Decimal = ZERO
    adjustments: Decimal = ZERO
    spent: Decimal = ZERO
    closing: Decimal = ZERO
    messages_sent: int = 0
    by_channel: list[ReportRow] = field(default_factory=list)
    by_campaign: list[ReportRow] = field(default_factory=list)
    by_staff: list[ReportRow] = field(default_factory=list)
    daily: list[tuple[dt.date, str, Decimal]] = field(default_factory=list)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _owned(entries: QuerySet[LedgerEntry]) -> Decimal:
    totals = entries.aggregate(a=Sum("available_delta"), r=Sum("reserved_delta"))
    return (totals["a"] or ZERO) + (totals["r"] or ZERO)


def with_credits(queryset: QuerySet[OutboundMessage]) -> QuerySet[OutboundMessage]:
    """Annotate each message with what it really cost and what it still holds, from the ledger.

    ``credits_spent`` is the debit posted for it (0 for a message that failed, was skipped or
    whose credits were released); ``credits_held`` the reservation still waiting for an
    outcome (queued, sending, a Viber message awaiting its receipt, an unknown outcome).
    ``credits`` itself stays the price worked out when it was queued.
    """
    entries = LedgerEntry.objects.filter(message=OuterRef("pk")).order_by()
    posted = entries.filter(kind=LedgerEntry.Kind.POST).values("amount")[:1]
    settled = entries.filter(kind__in=[LedgerEntry.Kind.POST, LedgerEntry.Kind.RELEASE])
    return queryset.annotate(
        credits_spent=Coalesce(Subquery(posted), Value(ZERO), output_field=DecimalField()),
        credits_held=Case(
            When(
                Exists(entries.filter(kind=LedgerEntry.Kind.RESERVE)) & ~Exists(settled),
                then=F("credits"),
            ),
            default=Value(ZERO),
            output_field=DecimalField(),
        ),
    )


def _grouped(
    sent: QuerySet[OutboundMessage], posted: QuerySet[LedgerEntry], key: str
) -> list[tuple[object, int, Decimal]]:
    """(key, messages sent, credits debited) per value of the message's ``key``, most credits first.

    Messages count what the provider took in the period; credits are the debits posted in
    it, so the rows add up to the report's cost.
    """
    counts = dict(sent.order_by().values_list(key).annotate(n=Count("pk")))
    spent = dict(posted.order_by().values_list(f"message__{key}").annotate(c=Sum("amount")))
    keys = set(counts) | set(spent)
    return sorted(
        ((k, counts.get(k, 0), spent.get(k) or ZERO) for k in keys),
        key=lambda row: (-row[2], -row[1], str(row[0])),
    )


def credit_report(*, start: dt.date, end: dt.date) -> CreditReport:
    """Opening balance, bought, cost of sent messages, closing balance and messages sent from
    ``start`` to ``end`` (inclusive, hotel time), by channel, campaign and staff member.

    The cost is the credits debited in the period (a released reservation — a failed SMS, a
    Viber message that fell back to SMS — costs nothing); the per-channel, per-campaign and
    per-staff rows and the daily series are the same debits grouped, so each adds up to it.
    """
    since, until = _day_start(start), _day_start(end + dt.timedelta(days=1))
    report = CreditReport(start=start, end=end)
    period = LedgerEntry.objects.filter(created_at__gte=since, created_at__lt=until)
    report.opening = _owned(LedgerEntry.objects.filter(created_at__lt=since))
    report.bought = (
        period.filter(kind=LedgerEntry.Kind.PURCHASE).aggregate(s=Sum("amount"))["s"] or ZERO
    )
    report.adjustments = (
        period.filter(kind=LedgerEntry.Kind.ADJUSTMENT).aggregate(s=Sum("available_delta"))["s"]
        or ZERO
    )
    posted = period.filter(kind=LedgerEntry.Kind.POST)
    report.spent = posted.aggregate(s=Sum("amount"))["s"] or ZERO
    report.closing = report.opening + report.bought + report.adjustments - report.spent

    # Accepted messages: every message the provider took in the period (e-mail included).
    sent = OutboundMessage.objects.filter(sent_at__gte=since, sent_at__lt=until)
    report.messages_sent = sent.count()
    labels = dict(ContactChannel.choices)
    report.by_channel = [
        ReportRow(labels.get(str(k), str(k)), n, c) for k, n, c in _grouped(sent, posted, "channel")
    ]

    staff_names: dict[object, str] = {}
    staff_rows = _grouped(sent, posted, "sent_by")
    if staff_rows:
        users = get_user_model().objects.filter(pk__in=[k for k, _, _ in staff_rows if k])
        staff_names = {u.pk: (u.get_full_name() or u.get_username()) for u in users}
    report.by_staff = [
        ReportRow(staff_names.get(k, gettext("automatic")), n, c) for k, n, c in staff_rows
    ]

    grouped: dict[str, list] = defaultdict(lambda: [0, ZERO])
    counts = {
        (row["origin_type"], row["origin_id"]): row["n"]
        for row in sent.order_by().values("origin_type", "origin_id").annotate(n=Count("pk"))
    }
    spent = {
        (row["message__origin_type"], row["message__origin_id"]): row["c"] or ZERO
        for row in posted.order_by()
        .values("message__origin_type", "message__origin_id")
        .annotate(c=Sum("amount"))
    }
    keys = set(counts) | set(spent)
    origins = origin_labels(key for key in keys if key[0])
    for key in keys:
        label = origins.get(key, gettext("one-off messages"))
        grouped[label][0] += counts.get(key, 0)
        grouped[label][1] += spent.get(key, ZERO)
    report.by_campaign = sorted(
        (ReportRow(k, n, c) for k, (n, c) in grouped.items()), key=lambda r: (-r.credits, r.label)
    )

    report.daily = [
        (row["day"], labels.get(row["message__channel"], row["message__channel"]), row["c"] or ZERO)
        for row in posted.annotate(day=TruncDate("created_at"))
        .values("day", "message__channel")
        .annotate(c=Sum("amount"))
        .order_by("day", "message__channel")
    ]
    return report


@dataclass(frozen=True)
class QuietHold:
    """A queued message waiting for the end of the guest's quiet hours.

    ``until`` is the moment in the hotel's zone (what staff read); ``guest_zones`` are the
    zones the guest may be in (``recipient_timezones``). The label gives the hotel's time and
    the guest's clock at that moment: one clock ("08:00 guest time"), or, for a number
    spanning several zones (a +7 mobile), the earliest of them by name ("08:00 in Moscow,
    later in the guest's other possible zones"), since the hold lasts until the window is
    over everywhere he may be.
    """

    until: dt.datetime  # in the hotel's zone
    guest_zones: tuple[ZoneInfo, ...] = ()

    @staticmethod
    def _when(moment: dt.datetime, *, today: dt.date) -> str:
        time = f"{moment:%H:%M}"
        if moment.date() == today:
            return time
        return gettext("%(time)s on %(date)s") % {"time": time, "date": f"{moment:%d.%m.%Y}"}

    def __str__(self) -> str:
        today = timezone.now().astimezone(self.until.tzinfo).date()
        hotel = self._when(self.until, today=today)
        offsets = {self.until.astimezone(zone).utcoffset(): zone for zone in self.guest_zones}
        if not offsets or set(offsets) == {self.until.utcoffset()}:
            return gettext("waits for quiet hours until %(time)s (hotel and guest time)") % {
                "time": hotel
            }
        # The earliest clock the guest may read: the others are ahead of it.
        zone = offsets[min(offsets, key=lambda offset: offset or dt.timedelta())]
        guest = self._when(self.until.astimezone(zone), today=self.until.date())
        if len(offsets) == 1:
            return gettext(
                "waits for quiet hours until %(time)s (hotel time; %(guest_time)s guest time)"
            ) % {"time": hotel, "guest_time": guest}
        return gettext(
            "waits for quiet hours until %(time)s (hotel time; %(guest_time)s in %(place)s, "
            "later in the guest's other possible zones)"
        ) % {"time": hotel, "guest_time": guest, "place": zone_place(zone)}


def zone_place(zone: ZoneInfo) -> str:
    """The place an IANA zone is named after: ``Asia/Vladivostok`` → ``Vladivostok``."""
    return str(zone.key).rpartition("/")[2].replace("_", " ")


def quiet_hours_hold(message: OutboundMessage) -> QuietHold | None:
    """When ``message`` waits for the guest's quiet hours: until when (hotel time) and the
    zones the guest may be in, for the label; else None."""
    if (
        message.status != Status.QUEUED
        or message.hold != Hold.QUIET_HOURS
        or message.not_before is None
        or message.not_before <= timezone.now()
    ):
        return None
    zones = recipient_timezones(to=message.to, guest=message.guest)
    return QuietHold(timezone.localtime(message.not_before), zones)


def guest_messages(guest: Guest) -> QuerySet[OutboundMessage]:
    """A guest's message history, newest first, ready to list (no N+1)."""
    return with_credits(
        OutboundMessage.objects.filter(guest=guest).select_related(
            "account", "sent_by", "reservation"
        )
    )


def reservation_messages(reservation: Reservation) -> QuerySet[OutboundMessage]:
    """Messages about a stay or to any of its guests, newest first."""
    guest_ids = [
        reservation.booker_id,
        *reservation.companion_links.values_list("guest_id", flat=True),
    ]
    return with_credits(
        OutboundMessage.objects.filter(Q(reservation=reservation) | Q(guest_id__in=guest_ids))
        .select_related("account", "sent_by", "guest")
        .distinct()
    )


# --- for monitoring (the metrics read these on every scrape) --------------------------------


@dataclass(frozen=True)
class MessageCount:
    account: str  # the account's name
    channel: str
    status: str
    count: int


def message_counts() -> list[MessageCount]:
    """How many messages each account holds in each status (one grouped query)."""
    rows = (
        OutboundMessage.objects.order_by()
        .values_list("account__name", "channel", "status")
        .annotate(n=Count("pk"))
    )
    return [MessageCount(name, channel, status, n) for name, channel, status, n in rows]


QUEUE_STATES = ("queued", "retry_wait", "quiet_hours", "sending", "unknown")


def queue_depth(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Messages not yet settled, by what they wait for (one query).

    queued: due now, waiting for a worker; retry_wait: a transient error, waiting for the
    retry; quiet_hours: held until the guest's quiet hours end (never attempted yet);
    sending: claimed by a worker; unknown: waiting for an operator's decision.
    """
    now = now or timezone.now()
    due = Q(not_before__isnull=True) | Q(not_before__lte=now)
    later = Q(status=Status.QUEUED, not_before__gt=now)
    return OutboundMessage.objects.filter(
        status__in=(Status.QUEUED, Status.SENDING, Status.UNKNOWN)
    ).aggregate(
        queued=Count("pk", filter=Q(status=Status.QUEUED) & due),
        retry_wait=Count("pk", filter=later & Q(attempts__gt=0)),
        quiet_hours=Count("pk", filter=later & Q(attempts=0)),
        sending=Count("pk", filter=Q(status=Status.SENDING)),
        unknown=Count("pk", filter=Q(status=Status.UNKNOWN)),
    )


# --- suppressed e-mail addresses (E2) ---------------------------------------------------------


def suppressions_of(address: str) -> QuerySet[Suppression]:
    """Every suppression of ``address`` (in force first, then the cleared ones, newest first)."""
    if not address:
        return Suppression.objects.none()
    return (
        Suppression.objects.filter(address=address.strip().lower())
        .select_related("cleared_by")
        .order_by(F("cleared_at").desc(nulls_first=True), "-created_at", "-pk")
    )


def address_suppressed(email: str | OuterRef) -> Exists:
    """An expression true when the e-mail address (a value or an outer reference to a
    lower-cased column) has a suppression in force."""
    return Exists(Suppression.objects.filter(address=email, cleared_at__isnull=True))
