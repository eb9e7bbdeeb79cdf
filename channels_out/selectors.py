"""Reads of the sender layer: balance, the period report (K4), a guest's history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from guests.models import ContactChannel, Guest, Reservation

from .models import CreditBalance, LedgerEntry, MessagingPolicy, OutboundMessage, Status
from .origins import origin_labels

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
    balance, _ = CreditBalance.objects.get_or_create(pk=1)
    return BalanceView(
        balance.available, balance.reserved, MessagingPolicy.load().low_balance_threshold
    )


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


def _rows(queryset: QuerySet[OutboundMessage], key: str) -> list[tuple[object, int, Decimal]]:
    return [
        (row[key], row["n"], row["c"] or ZERO)
        for row in queryset.values(key)
        .annotate(n=Count("pk"), c=Sum("credits"))
        .order_by("-c", key)
    ]


def credit_report(*, start: dt.date, end: dt.date) -> CreditReport:
    """Opening balance, bought, cost of sent messages, closing balance and messages sent from
    ``start`` to ``end`` (inclusive, hotel time), by channel, campaign and staff member.
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
    report.spent = period.filter(kind=LedgerEntry.Kind.POST).aggregate(s=Sum("amount"))["s"] or ZERO
    report.closing = report.opening + report.bought + report.adjustments - report.spent

    # Accepted messages: every message the provider took in the period (e-mail included).
    sent = OutboundMessage.objects.filter(sent_at__gte=since, sent_at__lt=until)
    report.messages_sent = sent.count()
    labels = dict(ContactChannel.choices)
    report.by_channel = [
        ReportRow(labels.get(str(k), str(k)), n, c) for k, n, c in _rows(sent, "channel")
    ]

    staff_names: dict[object, str] = {}
    staff_rows = _rows(sent, "sent_by")
    if staff_rows:
        users = get_user_model().objects.filter(pk__in=[k for k, _, _ in staff_rows if k])
        staff_names = {u.pk: (u.get_full_name() or u.get_username()) for u in users}
    report.by_staff = [
        ReportRow(staff_names.get(k, gettext("automatic")), n, c) for k, n, c in staff_rows
    ]

    grouped: dict[str, list] = defaultdict(lambda: [0, ZERO])
    rows = list(sent.values("origin_type", "origin_id").annotate(n=Count("pk"), c=Sum("credits")))
    origins = origin_labels(
        (row["origin_type"], row["origin_id"]) for row in rows if row["origin_type"]
    )
    for row in rows:
        label = origins.get((row["origin_type"], row["origin_id"]), gettext("one-off messages"))
        grouped[label][0] += row["n"]
        grouped[label][1] += row["c"] or ZERO
    report.by_campaign = sorted(
        (ReportRow(k, n, c) for k, (n, c) in grouped.items()), key=lambda r: (-r.credits, r.label)
    )

    report.daily = [
        (row["day"], labels.get(row["channel"], row["channel"]), row["c"] or ZERO)
        for row in sent.annotate(day=TruncDate("sent_at"))
        .values("day", "channel")
        .annotate(c=Sum("credits"))
        .order_by("day", "channel")
    ]
    return report


def guest_messages(guest: Guest) -> QuerySet[OutboundMessage]:
    """A guest's message history, newest first, ready to list (no N+1)."""
    return OutboundMessage.objects.filter(guest=guest).select_related(
        "account", "sent_by", "reservation"
    )


def reservation_messages(reservation: Reservation) -> QuerySet[OutboundMessage]:
    """Messages about a stay or to any of its guests, newest first."""
    guest_ids = [
        reservation.booker_id,
        *reservation.companion_links.values_list("guest_id", flat=True),
    ]
    return (
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
