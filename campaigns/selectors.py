"""Reads of the campaign engine: what a run became, the next occurrence and its forecast."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_out.models import OutboundMessage, Status
from crm_messaging.i18n import reason_text
from guests.models import Hotel

from .audiences import audience
from .models import EVENT_TRIGGERS, Campaign, CampaignRun, Trigger, TriggerEvent
from .occurrences import Occurrence
from .services import Estimate, estimate
from .triggers import daily_event_key

ZERO = Decimal("0")
_QUEUED = frozenset({Status.QUEUED, Status.SENDING})
_ACCEPTED = frozenset({Status.SENT, Status.DELIVERED, Status.UNDELIVERED})
_FAILED = frozenset({Status.FAILED, Status.UNDELIVERED})


@dataclass
class RunCounts:
    """What became of a run's messages (C12).

    ``sent`` counts every message the provider took (delivered and undelivered included);
    ``failed`` counts refusals and undelivered receipts; ``unknown`` the outcomes an
    operator has to settle; ``credits`` what the taken messages cost.
    """

    queued: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    credits: Decimal = ZERO

    def add(self, status: str, skip_reason: str, count: int, spent: Decimal | None) -> None:
        if status in _QUEUED:
            self.queued += count
        if status in _ACCEPTED:
            self.sent += count
        if status == Status.DELIVERED:
            self.delivered += count
        if status in _FAILED:
            self.failed += count
        if status == Status.UNKNOWN:
            self.unknown += count
        if status == Status.SKIPPED:
            self.skipped[skip_reason] += count
        self.credits += spent or ZERO


def run_message_counts(run_ids: Iterable[int]) -> dict[int, RunCounts]:
    """Count the messages of each run by status and skip reason, in one query."""
    ids = list(run_ids)
    counts = {pk: RunCounts() for pk in ids}
    if not ids:
        return counts
    rows = (
        OutboundMessage.objects.filter(
            origin_type=ContentType.objects.get_for_model(CampaignRun), origin_id__in=ids
        )
        .values("origin_id", "status", "skip_reason")
        # Spent as the credit report counts it: the messages a provider took.
        .annotate(n=Count("pk"), spent=Sum("credits", filter=Q(sent_at__isnull=False)))
        .order_by()
    )
    for row in rows:
        if (origin_id := row["origin_id"]) in counts:
            counts[origin_id].add(row["status"], row["skip_reason"], row["n"], row["spent"])
    return counts


def next_occurrence(
    campaign: Campaign, *, now: dt.datetime | None = None
) -> tuple[Occurrence | None, str]:
    """The occurrence the campaign will next be evaluated at, and how staff read it.

    None for event triggers: they reach one reservation at a time, when it happens.
    """
    now = now or timezone.now()
    trigger = campaign.trigger
    if trigger in EVENT_TRIGGERS:
        return None, _("Sent to each reservation at “%(trigger)s”, when it happens.") % {
            "trigger": Trigger(trigger).label
        }
    if trigger == Trigger.DAILY:
        day = Hotel.load().business_date
        key = f"daily:{day.isoformat()}"
        if campaign.send_time is not None and campaign.pk is not None:
            key = daily_event_key(campaign, day)
        if TriggerEvent.objects.filter(key=key).exists():
            day += dt.timedelta(
                days=1
            )  # today's run is done: the next night audit opens the next day
        if campaign.send_time is not None:
            return Occurrence.daily(day, at=now), _(
                "The daily run for the business date %(day)s at %(time)s."
            ) % {"day": f"{day:%d.%m.%Y}", "time": f"{campaign.send_time:%H:%M}"}
        return Occurrence.daily(day, at=now), _("The daily run for the business date %(day)s.") % {
            "day": f"{day:%d.%m.%Y}"
        }
    if trigger == Trigger.HOURLY:
        this_hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
        # In UTC: wall-clock arithmetic would skip or repeat an hour at a DST change.
        hour = timezone.localtime(this_hour.astimezone(dt.UTC) + dt.timedelta(hours=1))
        return Occurrence.hourly(hour, at=now), _("The hourly run at %(time)s on %(day)s.") % {
            "time": f"{hour:%H:%M}",
            "day": f"{hour:%d.%m.%Y}",
        }
    if trigger == Trigger.ONCE and campaign.scheduled_at is not None:
        at = timezone.localtime(campaign.scheduled_at)
        return Occurrence.once(campaign.scheduled_at), _(
            "The one-off send at %(time)s on %(day)s."
        ) % {"time": f"{at:%H:%M}", "day": f"{at:%d.%m.%Y}"}
    return Occurrence.operator(now), _("A send right now.")


@dataclass(frozen=True)
class Forecast:
    """Who the next occurrence reaches and what it costs; ``note`` says why it could not be counted."""

    when: str
    audience: int | None = None
    estimate: Estimate | None = None
    note: str = ""


def is_priceable(campaign: Campaign) -> bool:
    """Whether there is a message to forecast: a channel to send by and a text to send."""
    return bool(campaign.plan_steps() and campaign.message_variants())


def forecast(campaign: Campaign) -> Forecast:
    """Count the next occurrence's audience and price it; any failure becomes a readable note."""
    occurrence, when = next_occurrence(campaign)
    if occurrence is None:
        return Forecast(when, note=_("There is no audience to count ahead of the event."))
    try:
        # A savepoint: a query the database refuses must not break the page's transaction.
        with transaction.atomic():
            count = audience(campaign, occurrence).count()
            cost = estimate(campaign, occurrence) if is_priceable(campaign) else None
    except (
        Exception
    ) as exc:  # a half-written draft may fail anywhere: staff get the reason, not a 500
        return Forecast(
            when, note=_("Cannot be counted yet: %(reason)s") % {"reason": reason_text(exc)}
        )
    return Forecast(when, audience=count, estimate=cost)


def run_counts_by_state() -> dict[tuple[str, str], int]:
    """How many campaign runs there are per (trigger, state) (one grouped query, for monitoring)."""
    rows = CampaignRun.objects.order_by().values_list("trigger", "state").annotate(n=Count("pk"))
    return {(trigger, state): n for trigger, state, n in rows}
