"""What the campaign screens share: permissions, the audience a screen shows, wording, the audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.audiences import audience
from campaigns.models import EVENT_TRIGGERS, Campaign, CampaignRun, Trigger, timing_text
from campaigns.occurrences import Occurrence
from campaigns.selectors import RunCounts, next_occurrence, run_message_counts
from campaigns.services import run_changed_since_asked
from channels_out.models import SkipReason
from crm_messaging.ui.screens import StaffView
from guests.models import Hotel, Reservation

PAGE_SIZE = 20


@dataclass(frozen=True)
class RunRow:
    """A run as the screens list it: with what became of its messages."""

    run: CampaignRun
    counts: RunCounts
    skipped: int
    skipped_detail: list[tuple[str, int]]
    # Waiting for approval, and the campaign was edited since: its estimate is the old one.
    stale: bool = False


def run_rows(runs: Iterable[CampaignRun]) -> list[RunRow]:
    """Rows for ``runs``, their message counts read in one query."""
    runs = list(runs)
    counts = run_message_counts(run.pk for run in runs)
    labels = dict(SkipReason.choices)
    return [
        RunRow(
            run,
            counts[run.pk],
            sum(counts[run.pk].skipped.values()),
            [
                (str(labels.get(reason, reason or "?")), n)
                for reason, n in sorted(counts[run.pk].skipped.items())
            ],
            run.state == CampaignRun.State.AWAITING_APPROVAL and run_changed_since_asked(run),
        )
        for run in runs
    ]


class AnyPermissionView(StaffView):
    """A staff screen open to a user holding any one of ``permission_required`` (403 otherwise)."""

    request: HttpRequest

    def has_permission(self) -> bool:
        return any(self.request.user.has_perm(p) for p in self.get_permission_required())


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def timing_label(campaign: Campaign) -> str:
    """The timing as staff read it: "3 days after departure"."""
    return timing_text(campaign.timing, campaign.offset)


# --- the audience a screen shows -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Which records a screen counts and previews for a campaign, and how staff read it.

    Scheduled and operator campaigns show their next occurrence. An event campaign reaches
    one reservation at a time, when it happens; the screens show it against today's
    reservations of that kind (today's departures for a check-out survey), so a filter's
    effect is visible before the event.
    """

    occurrence: Occurrence
    when: str
    only: Q | None = None

    def records(self, campaign: Campaign) -> QuerySet[Any]:
        records = audience(campaign, self.occurrence)
        return records.filter(self.only) if self.only is not None else records

    def record_ids(self, campaign: Campaign) -> list[int] | None:
        """The ids ``estimate`` and ``preview`` should keep to (None: the whole audience)."""
        if self.only is None:
            return None
        return list(self.records(campaign).order_by("pk").values_list("pk", flat=True))


def _today_of_event(
    trigger: str, day: dt.date, local_today: dt.date | None = None
) -> tuple[Q, str]:
    """The records ``trigger`` happened to on the business date ``day`` (``local_today`` the
    calendar date, default today), and how staff read them."""
    local_today = local_today or timezone.localdate()
    if trigger == Trigger.CHECK_IN:
        return Q(arrival=day), _("today's arrivals")
    if trigger == Trigger.CHECK_OUT:
        return (
            Q(
                departure=day,
                status__in=[Reservation.Status.CHECKED_IN, Reservation.Status.CHECKED_OUT],
            ),
            _("today's departures"),
        )
    if trigger == Trigger.CANCELLATION:
        return Q(cancelled_at__date=local_today), _("today's cancellations")
    if trigger == Trigger.NO_SHOW:
        return Q(arrival__range=(day - dt.timedelta(days=1), day)), _("the latest no-shows")
    if trigger == Trigger.RESERVATION_MODIFIED:
        return Q(updated_at__date=local_today), _("the reservations changed today")
    if trigger == Trigger.FACILITY_BOOKED:
        return Q(created_at__date=local_today), _("the facility bookings made today")
    if trigger == Trigger.FACILITY_CANCELLED:
        return Q(starts_at__date__gte=local_today), _("the cancelled bookings still ahead")
    return Q(created_at__date=local_today), _("the reservations made today")


def screen_target(campaign: Campaign) -> Target:
    """The occurrence the forecast, preview and audience screens evaluate ``campaign`` at."""
    occurrence, when = next_occurrence(campaign)
    if occurrence is not None:
        return Target(occurrence, when)
    day = Hotel.load().business_date
    only, label = _today_of_event(campaign.trigger, day)
    trigger = (
        Trigger(campaign.trigger).label if campaign.trigger in EVENT_TRIGGERS else campaign.trigger
    )
    when = _(
        "Sent to each reservation at “%(trigger)s”, when it happens. Shown here: %(which)s (%(day)s)."
    ) % {"trigger": trigger, "which": label, "day": f"{day:%d.%m.%Y}"}
    return Target(Occurrence.operator(business_date=day), when, only)


class DryRunRefused(ValueError):
    """The dry run cannot look at that moment (one still ahead); the message says why."""


def dry_run_target(campaign: Campaign, day: dt.date, hour: int | None = None) -> Target:
    """Who ``campaign`` would have reached on the past business date ``day`` (its hour ``hour``
    for an hourly campaign), as a Target the preview and estimate read; the dry run.

    A daily campaign is evaluated as its tick for ``day``, an hourly one as its tick for that
    hour, an event campaign against the records the event happened to that day, an operator
    or one-off campaign as a send on that day. Raises DryRunRefused for a moment still ahead.
    """
    now = timezone.localtime()
    shown = f"{day:%d.%m.%Y}"
    if campaign.trigger == Trigger.HOURLY:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(hour or 0)))
        if start > now:
            raise DryRunRefused(_("Pick an hour that has begun: a dry run looks back."))
        when = _("Who would have received it in the hour from %(time)s on %(day)s.") % {
            "time": f"{start:%H:%M}",
            "day": shown,
        }
        return Target(Occurrence.hourly(start, at=start), when)
    if day > Hotel.load().business_date or day > now.date():
        raise DryRunRefused(_("Pick a past date: a dry run looks back."))
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    if campaign.trigger == Trigger.DAILY:
        when = _("Who would have received it on the business date %(day)s.") % {"day": shown}
        return Target(Occurrence.daily(day, at=min(moment, now)), when)
    occurrence = Occurrence.operator(min(moment, now), business_date=day)
    if campaign.trigger in EVENT_TRIGGERS:
        only, _which = _today_of_event(campaign.trigger, day, local_today=day)
        when = _("Who would have received it on %(day)s, at “%(trigger)s”.") % {
            "day": shown,
            "trigger": Trigger(campaign.trigger).label,
        }
        return Target(occurrence, when, only)
    when = _("Who would have received it, sent on %(day)s.") % {"day": shown}
    return Target(occurrence, when)
