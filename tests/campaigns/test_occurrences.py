"""An occurrence says when a campaign is evaluated; its key names the record's moment (C3, R1)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from campaigns.audiences import audience
from campaigns.models import Campaign, Source, Timing, Trigger
from campaigns.occurrences import Occurrence, OccurrenceKind, occurrence_key
from guests.models import FacilityBooking, Guest, Reservation
from tests.factories import FacilityFactory, GuestFactory, ReservationFactory

D = dt.date(2026, 6, 15)
DAY = dt.timedelta(days=1)


def local(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def campaign(**fields: Any) -> Campaign:
    return Campaign(
        name="test", **{"source": Source.RESERVATIONS, "trigger": Trigger.DAILY, **fields}
    )


def stay(arrival: dt.date = D + 3 * DAY) -> Reservation:
    return Reservation(arrival=arrival, departure=arrival + 4 * DAY)


# --- the occurrence ----------------------------------------------------------------------------
class TestOccurrence:
    def test_a_daily_tick_is_measured_from_its_business_date(self) -> None:
        occurrence = Occurrence.daily(D, at=local(D + DAY, 2))
        assert occurrence.kind == OccurrenceKind.DAILY
        assert occurrence.day == D
        assert occurrence.label == "daily:2026-06-15"

    def test_an_hourly_tick_is_measured_from_the_hotels_local_date_of_its_hour(self) -> None:
        midnight = local(D)  # 21:00 UTC the day before
        occurrence = Occurrence.hourly(midnight)
        assert occurrence.day == D
        assert occurrence.window_hour == midnight
        assert occurrence.label == "hourly:2026-06-14T21:00:00+00:00"

    def test_an_hour_that_does_not_start_on_the_hour_is_refused(self) -> None:
        with pytest.raises(ValueError, match="on the hour"):
            Occurrence.hourly(local(D, 10, 30))

    def test_the_hour_is_judged_on_the_hotels_clock(self) -> None:
        kolkata = zoneinfo.ZoneInfo("Asia/Kolkata")  # +05:30: 13:30 there is 11:00 in Istanbul
        assert Occurrence.hourly(dt.datetime(2026, 6, 15, 13, 30, tzinfo=kolkata)).day == D
        with pytest.raises(ValueError, match="on the hour"):
            Occurrence.hourly(dt.datetime(2026, 6, 15, 13, 0, tzinfo=kolkata))

    @pytest.mark.parametrize(
        "build",
        [
            lambda: Occurrence.hourly(dt.datetime(2026, 6, 15, 10)),
            lambda: Occurrence.daily(D, at=dt.datetime(2026, 6, 15, 3)),
            lambda: Occurrence.operator(dt.datetime(2026, 6, 15, 10)),
        ],
    )
    def test_naive_datetimes_are_refused(self, build: Any) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            build()

    def test_an_event_needs_an_event_trigger_and_a_record(self) -> None:
        assert Occurrence.event(Trigger.CHECK_IN, 42).label == "event:check_in:42"
        with pytest.raises(ValueError, match="not an event trigger"):
            Occurrence.event(Trigger.DAILY, 42)
        with pytest.raises(ValueError, match="needs the id"):
            Occurrence(OccurrenceKind.EVENT, timezone.now(), trigger=Trigger.CHECK_IN)

    def test_an_operator_send_is_measured_from_the_local_date_unless_told_the_business_date(
        self,
    ) -> None:
        late_evening = local(D, 23, 30)  # already the next day in no zone but Istanbul's own
        assert Occurrence.operator(late_evening).day == D
        assert Occurrence.once(local(D, 0, 30)).day == D
        assert Occurrence.operator(late_evening, business_date=D - DAY).day == D - DAY

    def test_occurrences_are_immutable(self) -> None:
        occurrence = Occurrence.daily(D)
        with pytest.raises(AttributeError):
            occurrence.business_date = D + DAY  # type: ignore[misc]


# --- the key -----------------------------------------------------------------------------------
class TestOccurrenceKey:
    @pytest.mark.parametrize("timing", [Timing.DAYS_BEFORE_ARRIVAL, Timing.HOURS_BEFORE_ARRIVAL])
    def test_before_arrival_the_key_is_the_arrival_date(self, timing: str) -> None:
        key = occurrence_key(campaign(timing=timing, offset=3), stay(), Occurrence.daily(D))
        assert key == "arrival:2026-06-18"

    def test_after_departure_the_key_is_the_departure_date(self) -> None:
        key = occurrence_key(
            campaign(timing=Timing.DAYS_AFTER_DEPARTURE, offset=1),
            stay(D - 5 * DAY),
            Occurrence.daily(D),
        )
        assert key == "departure:2026-06-14"

    @pytest.mark.parametrize(
        "timing", [Timing.HOURS_BEFORE_START, Timing.DAYS_BEFORE_START, Timing.DAYS_AFTER_START]
    )
    def test_facility_timings_key_the_start_whatever_zone_it_was_read_in(self, timing: str) -> None:
        spa = campaign(source=Source.SPA, timing=timing, offset=2)
        here = FacilityBooking(starts_at=local(D, 13))
        from_database = FacilityBooking(starts_at=local(D, 13).astimezone(dt.UTC))
        key = occurrence_key(spa, here, Occurrence.hourly(local(D, 10)))
        assert key == "start:2026-06-15T10:00:00+00:00"
        assert occurrence_key(spa, from_database, Occurrence.daily(D)) == key

    def test_a_birthday_is_keyed_by_the_year_it_is_celebrated_in(self) -> None:
        birthdays = campaign(source=Source.GUESTS, timing=Timing.BIRTHDAY)
        guest = Guest(birth_date=dt.date(2000, 2, 29))
        assert (
            occurrence_key(birthdays, guest, Occurrence.daily(dt.date(2027, 2, 28)))
            == "birthday:2027"
        )
        assert (
            occurrence_key(birthdays, guest, Occurrence.daily(dt.date(2028, 2, 29)))
            == "birthday:2028"
        )

    def test_an_event_is_keyed_by_its_trigger(self) -> None:
        check_in = campaign(trigger=Trigger.CHECK_IN)
        assert occurrence_key(check_in, stay(), Occurrence.event(Trigger.CHECK_IN, 7)) == "check_in"

    def test_without_a_timing_a_daily_campaign_is_keyed_by_day_and_an_hourly_one_by_hour(
        self,
    ) -> None:
        plain = campaign()
        assert occurrence_key(plain, Guest(), Occurrence.daily(D)) == "day:2026-06-15"
        assert (
            occurrence_key(plain, Guest(), Occurrence.hourly(local(D, 10)))
            == "hour:2026-06-15T07:00:00+00:00"
        )

    @pytest.mark.parametrize("occurrence", [Occurrence.operator(), Occurrence.once(timezone.now())])
    def test_operator_and_one_off_sends_are_keyed_by_their_run(
        self, occurrence: Occurrence
    ) -> None:
        plain = campaign(timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3)
        assert occurrence_key(plain, stay(), occurrence, run_id=812) == "run:812"
        with pytest.raises(ValueError, match="run_id"):
            occurrence_key(plain, stay(), occurrence)

    def test_a_record_without_the_timings_date_is_refused_with_a_reason(self) -> None:
        with pytest.raises(ValueError, match="cannot key a Guest"):
            occurrence_key(
                campaign(timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3), Guest(), Occurrence.daily(D)
            )


@pytest.mark.django_db
class TestTheSameMomentWhicheverTickReachesIt:
    def keys(self, campaign: Campaign, occurrence: Occurrence) -> dict[int, str]:
        return {
            r.pk: occurrence_key(campaign, r, occurrence) for r in audience(campaign, occurrence)
        }

    def test_catch_up_and_the_strict_tick_key_a_reservation_alike(self) -> None:
        due = ReservationFactory(arrival=D + 3 * DAY, departure=D + 6 * DAY)
        strict = Campaign.objects.create(
            name="strict", timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3, trigger=Trigger.DAILY
        )
        catch_up = Campaign.objects.create(
            name="catch-up",
            timing=Timing.DAYS_BEFORE_ARRIVAL,
            offset=3,
            trigger=Trigger.DAILY,
            catch_up=True,
        )
        on_time = self.keys(strict, Occurrence.daily(D))
        caught_up = self.keys(catch_up, Occurrence.daily(D + DAY))  # e.g. the tick of D never ran
        again = self.keys(catch_up, Occurrence.daily(D + 2 * DAY))
        assert on_time == caught_up == again == {due.pk: "arrival:2026-06-18"}

    def test_an_edited_offset_or_a_repeated_tick_does_not_make_a_new_moment(self) -> None:
        due = ReservationFactory(arrival=D + 3 * DAY, departure=D + 6 * DAY)
        pre_arrival = Campaign.objects.create(
            name="pre", timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3, trigger=Trigger.DAILY
        )
        first = self.keys(pre_arrival, Occurrence.daily(D))
        assert self.keys(pre_arrival, Occurrence.daily(D)) == first  # the night audit re-run
        pre_arrival.offset = 2
        pre_arrival.save()
        assert (
            self.keys(pre_arrival, Occurrence.daily(D + DAY))
            == first
            == {due.pk: "arrival:2026-06-18"}
        )

    def test_hourly_catch_up_keys_a_late_booking_like_the_tick_it_missed(self) -> None:
        late = ReservationFactory(arrival=D, departure=D + 2 * DAY)
        hours = {"timing": Timing.HOURS_BEFORE_ARRIVAL, "offset": 24, "trigger": Trigger.HOURLY}
        strict = Campaign.objects.create(name="strict", **hours)
        catch_up = Campaign.objects.create(name="catch-up", catch_up=True, **hours)
        missed = self.keys(strict, Occurrence.hourly(local(D - DAY, 14)))
        assert (
            self.keys(catch_up, Occurrence.hourly(local(D, 9)))
            == missed
            == {late.pk: "arrival:2026-06-15"}
        )

    def test_a_spa_reminder_is_keyed_alike_by_the_hourly_and_the_catch_up_window(self) -> None:
        treatment = FacilityBooking.objects.create(
            guest=GuestFactory(), facility=FacilityFactory(), starts_at=local(D, 13)
        )
        hours = {
            "source": Source.SPA,
            "timing": Timing.HOURS_BEFORE_START,
            "offset": 3,
            "trigger": Trigger.HOURLY,
        }
        strict = Campaign.objects.create(name="strict", **hours)
        catch_up = Campaign.objects.create(name="catch-up", catch_up=True, **hours)
        on_time = self.keys(strict, Occurrence.hourly(local(D, 10)))
        assert self.keys(catch_up, Occurrence.hourly(local(D, 12))) == on_time
        assert on_time == {treatment.pk: "start:2026-06-15T10:00:00+00:00"}
