"""What a campaign is made of, as choices (C1–C6): its source table, trigger, timing, recipients
and filters' modes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy


class Source(models.TextChoices):
    """The table the audience is drawn from (seed 000 "Kaynak tablo")."""

    GUESTS = "guests", _("Guests")
    RESERVATIONS = "reservations", _("Reservations")
    SPA = "spa", _("Spa reservations")
    FACILITY = "facility", _("Event / facility reservations")


class Trigger(models.TextChoices):
    """What starts a send (seed 000 "Aksiyon")."""

    OPERATOR = "operator", _("Operator (manual only)")
    RESERVATION_CREATED = "reservation_created", _("Reservation created (confirmation)")
    CHECK_IN = "check_in", _("Check-in")
    CHECK_OUT = "check_out", _("Check-out")
    CANCELLATION = "cancellation", _("Cancellation")
    RESERVATION_MODIFIED = "reservation_modified", _("Reservation modified")
    NO_SHOW = "no_show", _("No-show")
    FACILITY_BOOKED = "facility_booked", _("Facility booking made (confirmation)")
    FACILITY_CANCELLED = "facility_cancelled", _("Facility booking cancelled")
    DAILY = "daily", _("Daily, after the night audit")
    HOURLY = "hourly", _("Hourly, on the hour")
    ONCE = "once", _("Once, at a scheduled date and time")


# Events that happen to one reservation, and to one spa/restaurant/event booking (seed 003).
RESERVATION_EVENTS = frozenset(
    {
        Trigger.RESERVATION_CREATED,
        Trigger.CHECK_IN,
        Trigger.CHECK_OUT,
        Trigger.CANCELLATION,
        Trigger.RESERVATION_MODIFIED,
        Trigger.NO_SHOW,
    }
)
FACILITY_EVENTS = frozenset({Trigger.FACILITY_BOOKED, Trigger.FACILITY_CANCELLED})
EVENT_TRIGGERS = RESERVATION_EVENTS | FACILITY_EVENTS


class StayChange(models.TextChoices):
    """What a "reservation modified" campaign listens to (seed 000: the stay was changed)."""

    DATES = "dates", _("Dates")
    ROOM = "room", _("Room")
    GUESTS = "guests", _("Number of guests")


# The reservation fields behind each kind of change.
STAY_CHANGE_FIELDS = {
    StayChange.DATES: frozenset({"arrival", "departure"}),
    StayChange.ROOM: frozenset({"room_type", "room_number"}),
    StayChange.GUESTS: frozenset({"adults", "children"}),
}


class Timing(models.TextChoices):
    """When, relative to the record, a scheduled (daily/hourly) campaign reaches it (C3, C6)."""

    NONE = "", _("At the trigger")
    DAYS_BEFORE_ARRIVAL = "days_before_arrival", _("N days before arrival")
    ARRIVAL_DAY = "arrival_day", _("On the day of arrival")
    DAYS_AFTER_ARRIVAL = "days_after_arrival", _("N days after arrival (mid-stay)")
    DAYS_BEFORE_DEPARTURE = "days_before_departure", _("N days before departure")
    DAYS_AFTER_DEPARTURE = "days_after_departure", _("N days after departure")
    HOURS_BEFORE_ARRIVAL = "hours_before_arrival", _("N hours before arrival")
    HOURS_AFTER_CHECK_OUT = "hours_after_check_out", _("N hours after check-out")
    HOURS_BEFORE_START = "hours_before_start", _("N hours before the facility booking")
    DAYS_BEFORE_START = "days_before_start", _("N days before the facility booking / event")
    DAYS_AFTER_START = "days_after_start", _("N days after the facility booking / event")
    BIRTHDAY = "birthday", _("On the guest's birthday")


# A timing with its number, in the singular or the plural the number asks for ("n" names it).
_TIMING_WITH_OFFSET = {
    Timing.DAYS_BEFORE_ARRIVAL: ngettext_lazy(
        "%(n)s day before arrival", "%(n)s days before arrival", "n"
    ),
    Timing.DAYS_AFTER_ARRIVAL: ngettext_lazy(
        "%(n)s day after arrival (mid-stay)", "%(n)s days after arrival (mid-stay)", "n"
    ),
    Timing.DAYS_BEFORE_DEPARTURE: ngettext_lazy(
        "%(n)s day before departure", "%(n)s days before departure", "n"
    ),
    Timing.DAYS_AFTER_DEPARTURE: ngettext_lazy(
        "%(n)s day after departure", "%(n)s days after departure", "n"
    ),
    Timing.HOURS_BEFORE_ARRIVAL: ngettext_lazy(
        "%(n)s hour before arrival", "%(n)s hours before arrival", "n"
    ),
    Timing.HOURS_AFTER_CHECK_OUT: ngettext_lazy(
        "%(n)s hour after check-out", "%(n)s hours after check-out", "n"
    ),
    Timing.HOURS_BEFORE_START: ngettext_lazy(
        "%(n)s hour before the facility booking", "%(n)s hours before the facility booking", "n"
    ),
    Timing.DAYS_BEFORE_START: ngettext_lazy(
        "%(n)s day before the facility booking / event",
        "%(n)s days before the facility booking / event",
        "n",
    ),
    Timing.DAYS_AFTER_START: ngettext_lazy(
        "%(n)s day after the facility booking / event",
        "%(n)s days after the facility booking / event",
        "n",
    ),
}


def timing_text(timing: str, offset: int) -> str:
    """A campaign's timing as staff read it, in the active language: "1 day before departure",
    "3 days after arrival (mid-stay)", "On the guest's birthday"; "" for none."""
    if not timing:
        return ""
    with_offset = _TIMING_WITH_OFFSET.get(Timing(timing))
    if with_offset is None:
        return str(Timing(timing).label)
    return str(with_offset % {"n": offset})


class Recipients(models.TextChoices):
    """Who of a stay a reservations campaign writes to (seed 000: "to guests who check in")."""

    BOOKER = "booker", _("The booker only")
    ADULTS = "adults", _("Every adult guest of the stay")
    OWN_CONTACT = "own_contact", _("Each guest of the stay with a contact of his own")


class BirthdayFilter(models.TextChoices):
    ANY = "", _("Any")
    TODAY = "today", _("Birthday today")
    THIS_MONTH = "this_month", _("Birthday this month")
    NEXT_MONTH = "next_month", _("Birthday next month")


class AgeMode(models.TextChoices):
    ANY = "", _("Any age")
    INCLUDE = "include", _("Only ages in the band")
    EXCLUDE = "exclude", _("All except ages in the band")
