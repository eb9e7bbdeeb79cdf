"""When a campaign is evaluated (an occurrence), and the dedupe key naming a record's moment.

An occurrence is the "when" of one evaluation: the daily tick for a business date, the
hourly tick for an hour, an event on one record, an operator's send, a scheduled one-off.
Audiences (``campaigns.audiences``) read their windows from it; the sender builds the
"sent once" key (R1) from the campaign, the record, the recipient, the channel step and
``occurrence_key``, which names the *moment of the record*, not the tick: a catch-up tick,
a doubled tick, a re-run night audit or an edited campaign that reaches the same
reservation for the same arrival produces the same key, so the database refuses the second
message.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext

from .models import EVENT_TRIGGERS, Timing

if TYPE_CHECKING:
    from .models import Campaign


class OccurrenceKind(enum.StrEnum):
    DAILY = "daily"
    HOURLY = "hourly"
    EVENT = "event"
    OPERATOR = "operator"
    ONCE = "once"


def _require_aware(value: dt.datetime, name: str) -> None:
    if timezone.is_naive(value):
        raise ValueError(f"{name} must be a timezone-aware datetime, not {value!r}.")


def _utc_iso(value: dt.datetime) -> str:
    # The same instant read back from PostgreSQL (UTC) and built in Python (local zone)
    # must give the same key.
    return value.astimezone(dt.UTC).isoformat()


@dataclass(frozen=True)
class Occurrence:
    """One evaluation of a campaign. Build it with the class-method constructors.

    ``at`` is the "now" of the evaluation (greylist expiry is judged at it). ``day`` is the
    date the day-based windows, ages and birthdays are measured against: the business
    date for a daily tick, the hotel-local date of the hour for an hourly one, otherwise the
    given business date or the hotel-local date of ``at``.
    """

    kind: OccurrenceKind
    at: dt.datetime
    business_date: dt.date | None = None
    hour: dt.datetime | None = None
    trigger: str = ""
    record_id: int | None = None
    change: str = ""  # which modification of the record (an event that can happen again)

    def __post_init__(self) -> None:
        _require_aware(self.at, "at")
        if self.kind == OccurrenceKind.DAILY and self.business_date is None:
            raise ValueError("A daily occurrence needs its business date.")
        if self.kind == OccurrenceKind.HOURLY:
            if self.hour is None:
                raise ValueError("An hourly occurrence needs its hour.")
            _require_aware(self.hour, "hour")
            local = timezone.localtime(self.hour)
            if (local.minute, local.second, local.microsecond) != (0, 0, 0):
                raise ValueError(
                    f"An hourly occurrence starts on the hour, not at {local.isoformat()}."
                )
        if self.kind == OccurrenceKind.EVENT:
            if self.trigger not in EVENT_TRIGGERS:
                raise ValueError(f"{self.trigger!r} is not an event trigger.")
            if self.record_id is None:
                raise ValueError("An event occurrence needs the id of its record.")
            if ":" in self.change:
                raise ValueError(f"A change is named without colons, not {self.change!r}.")

    # --- constructors ------------------------------------------------------------------------
    @classmethod
    def daily(cls, business_date: dt.date, *, at: dt.datetime | None = None) -> Occurrence:
        """The daily tick for ``business_date`` (after its night audit)."""
        return cls(OccurrenceKind.DAILY, at or timezone.now(), business_date=business_date)

    @classmethod
    def hourly(cls, hour: dt.datetime, *, at: dt.datetime | None = None) -> Occurrence:
        """The hourly tick for the hour starting at ``hour`` (aware, on the hour). Raises ValueError."""
        _require_aware(hour, "hour")
        return cls(OccurrenceKind.HOURLY, at or timezone.now(), hour=hour)

    @classmethod
    def event(
        cls,
        trigger: str,
        record_id: int,
        *,
        at: dt.datetime | None = None,
        business_date: dt.date | None = None,
        change: str = "",
    ) -> Occurrence:
        """``trigger`` (check-in, cancellation …) happened to record ``record_id`` (a
        reservation, or a facility booking for the facility triggers); ``change`` names which
        time, for an event that can happen to a record again (a modification)."""
        return cls(
            OccurrenceKind.EVENT,
            at or timezone.now(),
            business_date=business_date,
            trigger=str(trigger),
            record_id=record_id,
            change=change,
        )

    @classmethod
    def operator(
        cls, at: dt.datetime | None = None, *, business_date: dt.date | None = None
    ) -> Occurrence:
        """A member of staff sends (or previews) the campaign now."""
        return cls(OccurrenceKind.OPERATOR, at or timezone.now(), business_date=business_date)

    @classmethod
    def once(cls, at: dt.datetime, *, business_date: dt.date | None = None) -> Occurrence:
        """A one-off campaign's scheduled moment."""
        return cls(OccurrenceKind.ONCE, at, business_date=business_date)

    # --- derived -----------------------------------------------------------------------------
    @property
    def day(self) -> dt.date:
        """The date day-based windows, ages and birthdays are measured against."""
        if self.business_date is not None:
            return self.business_date
        return timezone.localdate(self.hour or self.at)

    @property
    def window_hour(self) -> dt.datetime:
        """The start of the hour hour-based windows are measured from."""
        if self.hour is not None:
            return self.hour
        return timezone.localtime(self.at).replace(minute=0, second=0, microsecond=0)

    @property
    def label(self) -> str:
        """What a run of this occurrence is for (``CampaignRun.occurrence``)."""
        if self.kind == OccurrenceKind.DAILY:
            return f"daily:{self.business_date}"
        if self.kind == OccurrenceKind.HOURLY:
            assert self.hour is not None
            return f"hourly:{_utc_iso(self.hour)}"
        if self.kind == OccurrenceKind.EVENT:
            change = f":{self.change}" if self.change else ""
            return f"event:{self.trigger}:{self.record_id}{change}"
        return f"{self.kind}:{_utc_iso(self.at)}"


def occurrence_key(
    campaign: Campaign, record: Any, occurrence: Occurrence, *, run_id: int | str | None = None
) -> str:
    """Name the moment ``record`` is messaged for, as part of the "sent once" key (R1).

    The key names the record's moment, whichever tick reaches it: ``arrival:<date>`` for
    days/hours before arrival, the day of arrival and mid-stay, ``departure:<date>`` for the
    days before departure and the days/hours after it, ``start:<UTC iso>`` for
    facility timings, ``birthday:<year>`` for birthdays, the trigger name for event
    triggers (one per record; ``<trigger>:<change>`` for one that can happen again), ``day:<business date>`` / ``hour:<UTC iso>`` for daily and
    hourly campaigns without a timing. Operator and one-off sends are deliberate, so each
    run is its own moment: pass ``run_id`` (the CampaignRun's id). The key does not name
    the record itself; the caller's full key must (with the campaign, recipient and step).

    Raises ValueError when an operator/once key has no ``run_id`` or ``record`` lacks the
    date the timing needs.
    """
    if occurrence.kind in (OccurrenceKind.OPERATOR, OccurrenceKind.ONCE):
        if run_id is None or run_id == "":
            raise ValueError("An operator or one-off send is keyed by its run: pass run_id.")
        return f"run:{run_id}"
    if occurrence.kind == OccurrenceKind.EVENT:
        return (
            f"{occurrence.trigger}:{occurrence.change}" if occurrence.change else occurrence.trigger
        )

    timing = campaign.timing
    try:
        if timing in (
            Timing.DAYS_BEFORE_ARRIVAL,
            Timing.HOURS_BEFORE_ARRIVAL,
            Timing.ARRIVAL_DAY,
            Timing.DAYS_AFTER_ARRIVAL,
        ):
            return f"arrival:{record.arrival}"
        if timing in (
            Timing.DAYS_AFTER_DEPARTURE,
            Timing.DAYS_BEFORE_DEPARTURE,
            Timing.HOURS_AFTER_CHECK_OUT,
        ):
            return f"departure:{record.departure}"
        if timing in (Timing.HOURS_BEFORE_START, Timing.DAYS_BEFORE_START, Timing.DAYS_AFTER_START):
            return f"start:{_utc_iso(record.starts_at)}"
    except AttributeError as exc:
        raise ValueError(f"A {timing} campaign cannot key a {type(record).__name__}.") from exc
    if timing == Timing.BIRTHDAY:
        return f"birthday:{occurrence.day.year}"
    if occurrence.kind == OccurrenceKind.HOURLY:
        return f"hour:{_utc_iso(occurrence.window_hour)}"
    return f"day:{occurrence.day}"


def occurrence_text(label: str) -> str:
    """An occurrence's ``label`` (``CampaignRun.occurrence``) as staff read it, in the active
    language and the hotel's time zone: "business day 04.12.2026", "04.12.2026 12:15",
    "record #42" — never the stored key. An unreadable label is returned as it is."""
    kind, _, rest = label.partition(":")
    try:
        if kind == "daily":
            day = dt.date.fromisoformat(rest)
            return gettext("business day %(day)s") % {"day": f"{day:%d.%m.%Y}"}
        if kind == "event":
            _trigger, _, record = rest.rpartition(":")
            return gettext("record #%(id)s") % {"id": int(record)}
        moment = timezone.localtime(dt.datetime.fromisoformat(rest))
    except ValueError:
        return label
    return f"{moment:%d.%m.%Y %H:%M}"
