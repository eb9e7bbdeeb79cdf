"""Every relative timing of the seeds (C3): the day of arrival, mid-stay, check-out eve, hours after check-out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from campaigns.audiences import AudienceError, audience
from campaigns.models import Source, Timing, Trigger
from campaigns.occurrences import Occurrence, occurrence_key
from campaigns.validation import definition_errors
from guests.models import Reservation
from tests.campaigns.test_audiences import DAY, D, daily, local, make_campaign, members, stay

pytestmark = pytest.mark.django_db
IN_HOUSE = Reservation.Status.CHECKED_IN
OUT = Reservation.Status.CHECKED_OUT


def test_the_day_of_arrival_reaches_the_stays_arriving_that_day_and_no_cancelled_one() -> None:
    today = stay(arrival=D)
    early = stay(arrival=D, status=IN_HOUSE)  # checked in before the morning message
    stay(arrival=D, status=Reservation.Status.CANCELLED)
    stay(arrival=D + DAY)
    campaign = make_campaign(timing=Timing.ARRIVAL_DAY)
    assert members(campaign) == {today.pk, early.pk}


def test_n_days_after_arrival_reaches_guests_in_house_on_their_nth_day() -> None:
    due = stay(arrival=D - 2 * DAY, nights=5, status=IN_HOUSE)
    stay(arrival=D - 2 * DAY, nights=5)  # never checked in
    stay(arrival=D - 2 * DAY, nights=2, status=IN_HOUSE)  # leaves today
    stay(arrival=D - DAY, nights=5, status=IN_HOUSE)
    assert members(make_campaign(timing=Timing.DAYS_AFTER_ARRIVAL, offset=2)) == {due.pk}


def test_mid_stay_catch_up_reaches_a_late_check_in_still_in_house() -> None:
    due = stay(arrival=D - 2 * DAY, nights=5, status=IN_HOUSE)
    late = stay(arrival=D - 4 * DAY, nights=7, status=IN_HOUSE)
    stay(arrival=D - DAY, nights=5, status=IN_HOUSE)  # its day is tomorrow
    campaign = make_campaign(timing=Timing.DAYS_AFTER_ARRIVAL, offset=2, catch_up=True)
    assert members(campaign) == {due.pk, late.pk}


def test_the_check_out_eve_reaches_stays_leaving_in_n_days() -> None:
    eve = stay(arrival=D - 2 * DAY, nights=3, status=IN_HOUSE)
    stay(arrival=D - 2 * DAY, nights=3, status=Reservation.Status.CANCELLED)
    stay(arrival=D - 2 * DAY, nights=4, status=IN_HOUSE)
    stay(arrival=D - 2 * DAY, nights=2, status=IN_HOUSE)  # leaves today
    campaign = make_campaign(timing=Timing.DAYS_BEFORE_DEPARTURE, offset=1)
    assert members(campaign) == {eve.pk}
    catch_up = make_campaign(timing=Timing.DAYS_BEFORE_DEPARTURE, offset=1, catch_up=True)
    assert len(members(catch_up)) == 2  # today's leaver too, who was not reached yesterday


def _checked_out(at: dt.datetime, **fields: Any) -> Reservation:
    reservation = stay(arrival=D - 3 * DAY, status=OUT, **fields)
    Reservation.objects.filter(pk=reservation.pk).update(checked_out_at=at)
    reservation.refresh_from_db()
    return reservation


class TestHoursAfterCheckOut:
    def campaign(self, hours: int, **fields: Any):
        return make_campaign(
            trigger=Trigger.HOURLY, timing=Timing.HOURS_AFTER_CHECK_OUT, offset=hours, **fields
        )

    def test_the_stay_is_reached_in_the_hour_n_hours_after_its_check_out(self) -> None:
        left = _checked_out(local(D, 10, 40))
        _checked_out(local(D, 9, 59))
        campaign = self.campaign(3)
        assert members(campaign, Occurrence.hourly(local(D, 13))) == {left.pk}
        assert members(campaign, Occurrence.hourly(local(D, 14))) == set()

    def test_catch_up_reaches_a_check_out_whose_hour_was_missed(self) -> None:
        left = _checked_out(local(D, 8, 15))
        assert members(self.campaign(3), Occurrence.hourly(local(D, 13))) == set()
        catch_up = self.campaign(3, catch_up=True)
        assert members(catch_up, Occurrence.hourly(local(D, 13))) == {left.pk}

    def test_two_ticks_of_a_catch_up_name_the_same_moment(self) -> None:
        left = _checked_out(local(D, 8, 15))
        campaign = self.campaign(3, catch_up=True)
        keys = {
            occurrence_key(campaign, left, Occurrence.hourly(local(D, hour)))
            for hour in (11, 12, 13)
        }
        assert keys == {f"departure:{left.departure}"}


@pytest.mark.parametrize(
    "timing",
    [
        Timing.ARRIVAL_DAY,
        Timing.DAYS_AFTER_ARRIVAL,
        Timing.DAYS_BEFORE_DEPARTURE,
        Timing.HOURS_AFTER_CHECK_OUT,
    ],
)
@pytest.mark.parametrize("source", [Source.GUESTS, Source.SPA, Source.FACILITY])
def test_a_stay_timing_needs_the_reservations_source(timing: str, source: str) -> None:
    campaign = make_campaign(source=source, timing=timing, offset=1)
    assert "reservations" in " ".join(definition_errors(campaign)["timing"])
    with pytest.raises(AudienceError):
        audience(campaign, daily())


@pytest.mark.parametrize(
    ("timing", "trigger"),
    [
        (Timing.ARRIVAL_DAY, Trigger.HOURLY),
        (Timing.DAYS_AFTER_ARRIVAL, Trigger.HOURLY),
        (Timing.DAYS_BEFORE_DEPARTURE, Trigger.CHECK_IN),
        (Timing.HOURS_AFTER_CHECK_OUT, Trigger.DAILY),
    ],
)
def test_a_timing_needs_its_tick(timing: str, trigger: str) -> None:
    campaign = make_campaign(timing=timing, trigger=trigger, offset=1)
    assert definition_errors(campaign)["timing"]


def test_mid_stay_and_hours_after_check_out_need_their_n() -> None:
    mid = make_campaign(timing=Timing.DAYS_AFTER_ARRIVAL, offset=0)
    assert "after arrival" in definition_errors(mid)["offset"][0]
    hours = make_campaign(trigger=Trigger.HOURLY, timing=Timing.HOURS_AFTER_CHECK_OUT, offset=0)
    assert "hours after" in definition_errors(hours)["offset"][0]
    assert "offset" not in definition_errors(make_campaign(timing=Timing.ARRIVAL_DAY))


def test_the_day_of_arrival_and_mid_stay_key_the_arrival() -> None:
    reservation = stay(arrival=D - 2 * DAY, nights=5, status=IN_HOUSE)
    for timing in (Timing.ARRIVAL_DAY, Timing.DAYS_AFTER_ARRIVAL):
        campaign = make_campaign(timing=timing, offset=2)
        assert occurrence_key(campaign, reservation, daily()) == f"arrival:{reservation.arrival}"
    eve = make_campaign(timing=Timing.DAYS_BEFORE_DEPARTURE, offset=1)
    assert occurrence_key(eve, reservation, daily()) == f"departure:{reservation.departure}"
