"""A campaign's audience is one lazy QuerySet built from its source, timing and filters (C3–C7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from campaigns.audiences import (
    AUDIENCE_PREFETCH,
    AudienceError,
    audience,
    audience_guest_field,
    recipients,
)
from campaigns.models import (
    M2M_FILTERS,
    AgeMode,
    BirthdayFilter,
    Campaign,
    CampaignSettings,
    CampaignStep,
    Source,
    Timing,
    Trigger,
)
from campaigns.occurrences import Occurrence
from guests.models import (
    Agency,
    BoardType,
    ConsentPurpose,
    FacilityBooking,
    FacilityType,
    GreylistEntry,
    Guest,
    LoyaltyTier,
    MarketSegment,
    Reservation,
    RoomType,
    SourceChannel,
    StayType,
)
from guests.selectors import BLOCK_GREYLISTED, BLOCK_NO_CONSENT, BLOCK_NO_DATA_CONSENT
from guests.services import guest_greylist, guest_record_consent
from tests.factories import FacilityFactory, FacilityTypeFactory, GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 6, 15)  # the business date of most tests
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


# --- helpers --------------------------------------------------------------------------------------
def local(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def daily(day: dt.date = D) -> Occurrence:
    return Occurrence.daily(day, at=local(day, 3))


def make_campaign(**fields: Any) -> Campaign:
    m2m = {name: fields.pop(name) for name in list(fields) if name in M2M_FILTERS}
    steps = fields.pop("steps", [])
    fields = {"name": "test", "source": Source.RESERVATIONS, "trigger": Trigger.DAILY, **fields}
    campaign = Campaign.objects.create(**fields)
    for name, objects in m2m.items():
        getattr(campaign, name).set(objects)
    for position, channel in enumerate(steps):
        CampaignStep.objects.create(campaign=campaign, position=position, channel=channel)
    return campaign


def members(campaign: Campaign, occurrence: Occurrence | None = None) -> set[int]:
    return set(audience(campaign, occurrence or daily()).values_list("pk", flat=True))


def stay(arrival: dt.date = D, nights: int = 3, **fields: Any) -> Reservation:
    return ReservationFactory(arrival=arrival, departure=arrival + nights * DAY, **fields)


def restaurant() -> Any:
    kind = FacilityTypeFactory(code="ALC", name="À la carte", kind=FacilityType.Kind.RESTAURANT)
    return FacilityFactory(name="Sunset grill", facility_type=kind)


def booking(starts_at: dt.datetime | None = None, **fields: Any) -> FacilityBooking:
    fields.setdefault("facility", FacilityFactory())
    fields.setdefault("guest", GuestFactory())
    return FacilityBooking.objects.create(starts_at=starts_at or local(D, 18), **fields)


def say(guest: Guest, purpose: str, granted: bool, channel: str = "", days_ago: int = 0) -> None:
    guest_record_consent(
        guest=guest,
        purpose=purpose,
        channel=channel,
        granted=granted,
        source="staff",
        at=timezone.now() - dt.timedelta(days=days_ago),
    )


# --- sources -----------------------------------------------------------------------------------
class TestSources:
    def test_a_reservations_audience_leaves_out_cancelled_and_no_show_stays(self) -> None:
        kept = [stay(status=s) for s in ("confirmed", "checked_in", "checked_out")]
        stay(status=Reservation.Status.CANCELLED)
        stay(status=Reservation.Status.NO_SHOW)
        assert members(make_campaign()) == {r.pk for r in kept}

    def test_a_cancellation_campaign_reaches_only_cancelled_stays(self) -> None:
        cancelled = stay(status=Reservation.Status.CANCELLED)
        stay()
        assert members(make_campaign(trigger=Trigger.CANCELLATION)) == {cancelled.pk}

    def test_a_stay_with_notifications_switched_off_is_left_out(self) -> None:
        on = stay()
        stay(send_notifications=False)
        assert members(make_campaign()) == {on.pk}

    def test_the_guests_source_holds_guests_without_any_booking(self) -> None:
        alone = GuestFactory()
        assert members(make_campaign(source=Source.GUESTS)) == {alone.pk}
        assert audience(make_campaign(source=Source.GUESTS), daily()).model is Guest

    def test_spa_and_facility_sources_split_bookings_by_facility_kind(self) -> None:
        spa = booking()
        dinner = booking(facility=restaurant())
        assert members(make_campaign(source=Source.SPA)) == {spa.pk}
        assert members(make_campaign(source=Source.FACILITY)) == {dinner.pk}

    def test_only_booked_facility_bookings_are_reached(self) -> None:
        booked = booking()
        for status in ("attended", "cancelled", "no_show"):
            booking(status=status)
        assert members(make_campaign(source=Source.SPA)) == {booked.pk}

    def test_a_booking_on_a_stay_with_notifications_off_is_left_out(self) -> None:
        quiet = stay(send_notifications=False)
        free = booking()
        booking(reservation=quiet, guest=quiet.booker)
        assert members(make_campaign(source=Source.SPA)) == {free.pk}

    @pytest.mark.parametrize(
        ("source", "field"),
        [
            (Source.GUESTS, ""),
            (Source.RESERVATIONS, "booker"),
            (Source.SPA, "guest"),
            (Source.FACILITY, "guest"),
        ],
    )
    def test_the_guest_of_a_record_is_named_by_its_source(self, source: str, field: str) -> None:
        assert audience_guest_field(make_campaign(source=source)) == field


# --- timing windows ------------------------------------------------------------------------------
class TestDaysAroundTheStay:
    def test_n_days_before_arrival_reaches_the_stays_arriving_on_that_day(self) -> None:
        due = stay(arrival=D + 3 * DAY)
        stay(arrival=D + 2 * DAY)
        stay(arrival=D + 4 * DAY)
        campaign = make_campaign(timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3)
        assert members(campaign) == {due.pk}

    def test_a_late_booking_is_in_the_catch_up_audience_and_not_in_the_strict_one(self) -> None:
        late = stay(arrival=D + DAY)  # booked after its 3-days-before moment
        due = stay(arrival=D + 3 * DAY)
        strict = make_campaign(timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3)
        catch_up = make_campaign(timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3, catch_up=True)
        assert members(strict) == {due.pk}
        assert members(catch_up) == {late.pk, due.pk}

    def test_catch_up_skips_guests_already_arrived_and_stays_already_past(self) -> None:
        today = stay(arrival=D)
        stay(arrival=D, status=Reservation.Status.CHECKED_IN)
        stay(arrival=D - DAY)
        stay(arrival=D + 4 * DAY)
        catch_up = make_campaign(timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3, catch_up=True)
        assert members(catch_up) == {today.pk}

    def test_n_days_after_departure_reaches_checked_out_stays_that_left_that_day(self) -> None:
        left = stay(arrival=D - 4 * DAY, nights=3, status=Reservation.Status.CHECKED_OUT)
        stay(arrival=D - 4 * DAY, nights=3, status=Reservation.Status.CHECKED_IN)  # overstaying
        stay(arrival=D - 5 * DAY, nights=3, status=Reservation.Status.CHECKED_OUT)
        campaign = make_campaign(timing=Timing.DAYS_AFTER_DEPARTURE, offset=1)
        assert members(campaign) == {left.pk}


class TestHoursBeforeArrival:
    """Check-in is at 14:00 by default: "3 hours before" is 11:00 on the arrival day."""

    def campaign(self, hours: int, **fields: Any) -> Campaign:
        return make_campaign(
            trigger=Trigger.HOURLY, timing=Timing.HOURS_BEFORE_ARRIVAL, offset=hours, **fields
        )

    def test_the_stay_is_reached_in_the_hour_its_moment_falls_in(self) -> None:
        due = stay(arrival=D)
        campaign = self.campaign(3)
        assert members(campaign, Occurrence.hourly(local(D, 11))) == {due.pk}
        assert members(campaign, Occurrence.hourly(local(D, 10))) == set()
        assert members(campaign, Occurrence.hourly(local(D, 12))) == set()

    def test_a_day_ahead_counts_back_across_midnight(self) -> None:
        due = stay(arrival=D)
        stay(arrival=D + DAY)
        assert members(self.campaign(24), Occurrence.hourly(local(D - DAY, 14))) == {due.pk}

    def test_the_house_check_in_time_moves_the_moment(self) -> None:
        settings = CampaignSettings.load()
        settings.arrival_time = dt.time(16, 0)
        settings.save()
        due = stay(arrival=D)
        campaign = self.campaign(3)
        assert members(campaign, Occurrence.hourly(local(D, 13))) == {due.pk}
        assert members(campaign, Occurrence.hourly(local(D, 11))) == set()

    def test_catch_up_reaches_a_late_booking_whose_arrival_is_still_ahead(self) -> None:
        late = stay(arrival=D)  # its 24-hours-before moment was yesterday 14:00
        upcoming = stay(arrival=D + DAY)  # due today 14:00, not yet
        stay(arrival=D, status=Reservation.Status.CHECKED_IN)
        strict, catch_up = self.campaign(24), self.campaign(24, catch_up=True)
        nine = Occurrence.hourly(local(D, 9))
        assert members(strict, nine) == set()
        assert members(catch_up, nine) == {late.pk}
        assert members(catch_up, Occurrence.hourly(local(D, 14))) == {
            upcoming.pk
        }  # arrival moment passed


class TestFacilityTimings:
    def campaign(self, timing: str, n: int, **fields: Any) -> Campaign:
        fields.setdefault("trigger", Trigger.HOURLY)
        return make_campaign(source=Source.SPA, timing=timing, offset=n, **fields)

    def test_n_hours_before_start_is_an_hour_wide_window_closed_at_its_start(self) -> None:
        at_one = booking(local(D, 13))
        half_past = booking(local(D, 13, 30))
        campaign = self.campaign(Timing.HOURS_BEFORE_START, 3)
        assert members(campaign, Occurrence.hourly(local(D, 10))) == {at_one.pk, half_past.pk}
        assert members(campaign, Occurrence.hourly(local(D, 9))) == set()
        assert members(campaign, Occurrence.hourly(local(D, 11))) == set()

    def test_hours_before_start_catch_up_reaches_a_late_booking_not_yet_started(self) -> None:
        late = booking(local(D, 13))
        strict = self.campaign(Timing.HOURS_BEFORE_START, 3)
        catch_up = self.campaign(Timing.HOURS_BEFORE_START, 3, catch_up=True)
        assert members(strict, Occurrence.hourly(local(D, 11))) == set()
        assert members(catch_up, Occurrence.hourly(local(D, 11))) == {late.pk}
        assert members(catch_up, Occurrence.hourly(local(D, 13))) == set()

    def test_days_before_start_counts_the_hotels_local_date(self) -> None:
        # 00:30 in Istanbul is still the previous day in UTC.
        early = booking(local(D + 2 * DAY, 0, 30))
        late = booking(local(D + 2 * DAY, 23, 30))
        booking(local(D + DAY, 23, 30))
        booking(local(D + 3 * DAY))
        campaign = self.campaign(Timing.DAYS_BEFORE_START, 2, trigger=Trigger.DAILY)
        assert members(campaign) == {early.pk, late.pk}

    def test_days_before_start_catch_up_reaches_bookings_made_too_late(self) -> None:
        late = booking(local(D + DAY, 10))
        due = booking(local(D + 2 * DAY, 10))
        strict = self.campaign(Timing.DAYS_BEFORE_START, 2, trigger=Trigger.DAILY)
        catch_up = self.campaign(Timing.DAYS_BEFORE_START, 2, trigger=Trigger.DAILY, catch_up=True)
        assert members(strict) == {due.pk}
        assert members(catch_up) == {late.pk, due.pk}

    def test_days_after_start_reaches_attended_and_unmarked_bookings_of_that_day(self) -> None:
        attended = booking(local(D - DAY, 18), status=FacilityBooking.Status.ATTENDED)
        unmarked = booking(local(D - DAY, 10))
        booking(local(D - DAY, 12), status=FacilityBooking.Status.CANCELLED)
        booking(local(D - 2 * DAY, 12), status=FacilityBooking.Status.ATTENDED)
        campaign = self.campaign(Timing.DAYS_AFTER_START, 1, trigger=Trigger.DAILY)
        assert members(campaign) == {attended.pk, unmarked.pk}


class TestBirthdayTiming:
    def test_the_guest_is_reached_on_his_birthday_whatever_the_year(self) -> None:
        born = GuestFactory(birth_date=dt.date(1980, 6, 15))
        GuestFactory(birth_date=dt.date(1980, 6, 16))
        GuestFactory(birth_date=None)
        assert members(make_campaign(source=Source.GUESTS, timing=Timing.BIRTHDAY)) == {born.pk}

    def test_a_29_february_birthday_is_celebrated_on_28_february_in_common_years(self) -> None:
        leapling = GuestFactory(birth_date=dt.date(2000, 2, 29))
        on_28th = GuestFactory(birth_date=dt.date(2001, 2, 28))
        campaign = make_campaign(source=Source.GUESTS, timing=Timing.BIRTHDAY)
        assert members(campaign, daily(dt.date(2027, 2, 28))) == {leapling.pk, on_28th.pk}
        assert members(campaign, daily(dt.date(2028, 2, 28))) == {on_28th.pk}
        assert members(campaign, daily(dt.date(2028, 2, 29))) == {leapling.pk}
        assert members(campaign, daily(dt.date(2027, 3, 1))) == set()

    def test_a_reservations_birthday_campaign_looks_at_the_booker(self) -> None:
        party = stay(booker=GuestFactory(birth_date=dt.date(1975, 6, 15)))
        stay(booker=GuestFactory(birth_date=dt.date(1975, 6, 14)))
        assert members(make_campaign(timing=Timing.BIRTHDAY)) == {party.pk}


class TestEventTriggers:
    def test_an_event_reaches_exactly_its_reservation(self) -> None:
        arrived, other = stay(), stay()
        campaign = make_campaign(
            trigger=Trigger.CHECK_IN, timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3
        )
        assert members(campaign, Occurrence.event(Trigger.CHECK_IN, arrived.pk)) == {arrived.pk}
        assert other.pk not in members(campaign, Occurrence.event(Trigger.CHECK_IN, arrived.pk))

    def test_a_guests_campaign_on_an_event_reaches_the_booker(self) -> None:
        arrived = stay()
        stay()
        campaign = make_campaign(source=Source.GUESTS, trigger=Trigger.CHECK_IN)
        assert members(campaign, Occurrence.event(Trigger.CHECK_IN, arrived.pk)) == {
            arrived.booker_id
        }

    def test_a_spa_campaign_on_an_event_reaches_the_bookings_on_that_stay(self) -> None:
        arrived = stay()
        treatment = booking(reservation=arrived, guest=arrived.booker)
        booking()
        campaign = make_campaign(source=Source.SPA, trigger=Trigger.CHECK_IN)
        assert members(campaign, Occurrence.event(Trigger.CHECK_IN, arrived.pk)) == {treatment.pk}

    def test_a_cancellation_event_reaches_the_cancelled_stay_only_once_it_is_cancelled(
        self,
    ) -> None:
        cancelled = stay(status=Reservation.Status.CANCELLED)
        still_on = stay()
        campaign = make_campaign(trigger=Trigger.CANCELLATION)
        assert members(campaign, Occurrence.event(Trigger.CANCELLATION, cancelled.pk)) == {
            cancelled.pk
        }
        assert members(campaign, Occurrence.event(Trigger.CANCELLATION, still_on.pk)) == set()


@pytest.mark.parametrize(
    ("source", "timing"),
    [
        (Source.GUESTS, Timing.DAYS_BEFORE_ARRIVAL),
        (Source.SPA, Timing.HOURS_BEFORE_ARRIVAL),
        (Source.FACILITY, Timing.DAYS_AFTER_DEPARTURE),
        (Source.RESERVATIONS, Timing.HOURS_BEFORE_START),
        (Source.GUESTS, Timing.DAYS_AFTER_START),
    ],
)
def test_a_timing_that_does_not_fit_the_source_is_refused(source: str, timing: str) -> None:
    with pytest.raises(AudienceError, match="needs"):
        audience(make_campaign(source=source, timing=timing, offset=1), daily())


# --- stay filters (C4) ---------------------------------------------------------------------------
class TestStayFilters:
    def test_repeat_guests_only_needs_a_completed_stay(self) -> None:
        repeat = stay(booker=GuestFactory(stay_count=1))
        stay(booker=GuestFactory(stay_count=0))
        assert members(make_campaign(repeat_guests_only=True)) == {repeat.pk}

    def test_at_check_out_a_repeat_guest_has_a_stay_besides_this_one(self) -> None:
        second = stay(booker=GuestFactory(stay_count=2), status=Reservation.Status.CHECKED_OUT)
        first = stay(booker=GuestFactory(stay_count=1), status=Reservation.Status.CHECKED_OUT)
        campaign = make_campaign(trigger=Trigger.CHECK_OUT, repeat_guests_only=True)
        assert members(campaign, Occurrence.event(Trigger.CHECK_OUT, second.pk)) == {second.pk}
        assert members(campaign, Occurrence.event(Trigger.CHECK_OUT, first.pk)) == set()

    def test_after_departure_a_repeat_guest_has_a_stay_besides_this_one(self) -> None:
        second = stay(
            D - 4 * DAY, booker=GuestFactory(stay_count=2), status=Reservation.Status.CHECKED_OUT
        )
        stay(D - 4 * DAY, booker=GuestFactory(stay_count=1), status=Reservation.Status.CHECKED_OUT)
        campaign = make_campaign(
            timing=Timing.DAYS_AFTER_DEPARTURE, offset=1, repeat_guests_only=True
        )
        assert members(campaign) == {second.pk}

    def test_the_nightly_rate_range_is_inclusive(self) -> None:
        inside = {stay(nightly_rate=Decimal(r)).pk for r in ("80.00", "150.00", "300.00")}
        stay(nightly_rate=Decimal("79.99"))
        stay(nightly_rate=Decimal("300.01"))
        assert members(make_campaign(rate_min=Decimal("80"), rate_max=Decimal("300"))) == inside

    def test_five_nights_and_more(self) -> None:
        long_stays = {stay(nights=5).pk, stay(nights=12).pk}
        stay(nights=4)
        assert members(make_campaign(nights_min=5)) == long_stays

    def test_at_most_n_nights(self) -> None:
        short = stay(nights=2)
        stay(nights=3)
        assert members(make_campaign(nights_max=2)) == {short.pk}

    @pytest.mark.parametrize(
        ("name", "field", "model"),
        [
            ("stay_types", "stay_type", StayType),
            ("agencies", "agency", Agency),
            ("market_segments", "market_segment", MarketSegment),
            ("board_types", "board_type", BoardType),
            ("room_types", "room_type", RoomType),
            ("source_channels", "source_channel", SourceChannel),
        ],
    )
    def test_a_list_filter_keeps_stays_with_one_of_the_chosen_values(
        self, name: str, field: str, model: Any
    ) -> None:
        first, second, third = (
            model.objects.create(code=f"C{n}", name=f"Choice {n}") for n in range(3)
        )
        chosen = {stay(**{field: first}).pk, stay(**{field: second}).pk}
        stay(**{field: third})
        assert members(make_campaign(**{name: [first, second]})) == chosen

    def test_all_nationalities_except_turkiye(self) -> None:
        foreign = {stay(booker=GuestFactory(nationality=c)).pk for c in ("DE", "GB", "")}
        stay(booker=GuestFactory(nationality="TR"))
        assert members(make_campaign(excluded_nationalities=["TR"])) == foreign

    def test_only_the_chosen_nationalities_minus_the_excluded_ones(self) -> None:
        german = stay(booker=GuestFactory(nationality="DE"))
        stay(booker=GuestFactory(nationality="RU"))
        stay(booker=GuestFactory(nationality="AT"))
        campaign = make_campaign(nationalities=["DE", "AT"], excluded_nationalities=["AT"])
        assert members(campaign) == {german.pk}

    def test_a_guests_campaign_with_stay_filters_needs_a_matching_live_booking(self) -> None:
        tui = Agency.objects.create(code="TUI", name="TUI")
        booked = stay(agency=tui).booker
        stay(agency=tui, status=Reservation.Status.CANCELLED)
        stay()
        GuestFactory()
        assert members(make_campaign(source=Source.GUESTS, agencies=[tui])) == {booked.pk}

    def test_a_facility_campaign_with_stay_filters_looks_at_the_linked_stay(self) -> None:
        all_inclusive = BoardType.objects.create(code="AI", name="All inclusive")
        on_ai = stay(board_type=all_inclusive)
        linked = booking(reservation=on_ai, guest=on_ai.booker)
        booking(reservation=stay(), guest=GuestFactory())
        booking()
        assert members(make_campaign(source=Source.SPA, board_types=[all_inclusive])) == {linked.pk}


class TestFacilityFilters:
    def test_facility_types_narrow_facility_bookings(self) -> None:
        dinner = booking(facility=restaurant())
        hall = FacilityFactory(
            name="Ballroom",
            facility_type=FacilityTypeFactory(
                code="EVT", name="Event", kind=FacilityType.Kind.EVENT
            ),
        )
        booking(facility=hall)
        campaign = make_campaign(
            source=Source.FACILITY, facility_types=[dinner.facility.facility_type]
        )
        assert members(campaign) == {dinner.pk}

    def test_facility_types_on_a_reservations_campaign_need_such_a_booking_on_the_stay(
        self,
    ) -> None:
        with_spa = stay()
        booking(reservation=with_spa, guest=with_spa.booker)
        stay()
        campaign = make_campaign(facility_types=[FacilityTypeFactory()])
        assert members(campaign) == {with_spa.pk}


# --- guest filters (C5), for every path to the guest ----------------------------------------------
@pytest.fixture(
    params=[Source.GUESTS, Source.RESERVATIONS, Source.SPA], ids=["guest", "booker", "spa-guest"]
)
def source(request: pytest.FixtureRequest) -> str:
    return request.param


def record(source: str, **guest_fields: Any) -> int:
    """Create a record of ``source`` whose guest has ``guest_fields``; return its id."""
    guest = GuestFactory(**guest_fields)
    if source == Source.GUESTS:
        return guest.pk
    if source == Source.RESERVATIONS:
        return stay(booker=guest).pk
    return booking(guest=guest).pk


class TestGuestFilters:
    def test_under_18_include_ends_on_the_18th_birthday(self, source: str) -> None:
        seventeen = record(source, birth_date=dt.date(2008, 6, 16))
        record(source, birth_date=dt.date(2008, 6, 15))  # turns 18 on D
        record(source, birth_date=None)
        campaign = make_campaign(source=source, age_mode=AgeMode.INCLUDE, age_max=17)
        assert members(campaign) == {seventeen}

    def test_under_18_exclude_keeps_adults_and_guests_without_a_birth_date(
        self, source: str
    ) -> None:
        record(source, birth_date=dt.date(2008, 6, 16))
        adult = record(source, birth_date=dt.date(2008, 6, 15))
        unknown = record(source, birth_date=None)
        campaign = make_campaign(source=source, age_mode=AgeMode.EXCLUDE, age_max=17)
        assert members(campaign) == {adult, unknown}

    def test_an_age_band_with_both_ends(self, source: str) -> None:
        youngest = record(source, birth_date=dt.date(2001, 6, 15))  # 25 on D
        oldest = record(source, birth_date=dt.date(1991, 6, 16))  # 34 until tomorrow
        record(source, birth_date=dt.date(2001, 6, 16))  # 24
        record(source, birth_date=dt.date(1991, 6, 15))  # 35
        campaign = make_campaign(source=source, age_mode=AgeMode.INCLUDE, age_min=25, age_max=34)
        assert members(campaign) == {youngest, oldest}

    def test_birthday_today(self, source: str) -> None:
        today = record(source, birth_date=dt.date(1990, 6, 15))
        record(source, birth_date=dt.date(1990, 6, 16))
        record(source, birth_date=None)
        assert members(make_campaign(source=source, birthday=BirthdayFilter.TODAY)) == {today}

    def test_birthday_this_month(self, source: str) -> None:
        june = {
            record(source, birth_date=dt.date(1990, 6, 1)),
            record(source, birth_date=dt.date(1970, 6, 30)),
        }
        record(source, birth_date=dt.date(1990, 5, 31))
        record(source, birth_date=dt.date(1990, 7, 1))
        assert members(make_campaign(source=source, birthday=BirthdayFilter.THIS_MONTH)) == june

    def test_in_december_next_month_is_january(self, source: str) -> None:
        january = record(source, birth_date=dt.date(1990, 1, 20))
        record(source, birth_date=dt.date(1990, 12, 31))
        record(source, birth_date=dt.date(1990, 2, 1))
        campaign = make_campaign(source=source, birthday=BirthdayFilter.NEXT_MONTH)
        assert members(campaign, daily(dt.date(2026, 12, 31))) == {january}

    def test_genders(self, source: str) -> None:
        women = record(source, gender="female")
        record(source, gender="male")
        record(source, gender="")
        assert members(make_campaign(source=source, genders=["female"])) == {women}

    def test_vip_level_at_least(self, source: str) -> None:
        vips = {record(source, vip_level=2), record(source, vip_level=3)}
        record(source, vip_level=1)
        assert members(make_campaign(source=source, vip_min=2)) == vips

    def test_loyalty_members_only(self, source: str) -> None:
        member = record(source, loyalty_tier=LoyaltyTier.objects.create(code="GOLD", name="Gold"))
        record(source, loyalty_tier=None)
        assert members(make_campaign(source=source, loyalty_members_only=True)) == {member}

    def test_loyalty_tiers(self, source: str) -> None:
        gold = LoyaltyTier.objects.create(code="GOLD", name="Gold", rank=2)
        silver = LoyaltyTier.objects.create(code="SILVER", name="Silver", rank=1)
        golden = record(source, loyalty_tier=gold)
        record(source, loyalty_tier=silver)
        record(source, loyalty_tier=None)
        assert members(make_campaign(source=source, loyalty_tiers=[gold])) == {golden}

    def test_number_of_stays(self, source: str) -> None:
        regulars = {record(source, stay_count=2), record(source, stay_count=4)}
        record(source, stay_count=1)
        record(source, stay_count=5)
        assert members(make_campaign(source=source, stays_min=2, stays_max=4)) == regulars

    def test_outstanding_balance_at_least(self, source: str) -> None:
        debtor = record(source, outstanding_balance=Decimal("250.00"))
        record(source, outstanding_balance=Decimal("249.99"))
        assert members(make_campaign(source=source, balance_min=Decimal("250"))) == {debtor}

    def test_languages(self, source: str) -> None:
        speakers = {record(source, language="de"), record(source, language="ru")}
        record(source, language="en")
        assert members(make_campaign(source=source, languages=["de", "ru"])) == speakers

    def test_nationality_exclusion(self, source: str) -> None:
        foreigner = record(source, nationality="DE")
        record(source, nationality="TR")
        assert members(make_campaign(source=source, excluded_nationalities=["TR"])) == {foreigner}


@pytest.mark.parametrize(
    "day", [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2028, 2, 29), dt.date(2026, 12, 31)]
)
def test_the_sql_age_band_agrees_with_the_guests_own_age(day: dt.date) -> None:
    births = [
        dt.date(y, m, d)
        for y in (2008, 2010, 1961)
        for (m, d) in ((2, 28), (2, 29), (3, 1), (12, 31), (1, 1))
        if not (m == 2 and d == 29 and y % 4)
    ]
    guests = [GuestFactory(birth_date=b) for b in births]
    campaign = make_campaign(source=Source.GUESTS, age_mode=AgeMode.INCLUDE, age_min=16, age_max=17)
    expected = {g.pk for g in guests if 16 <= g.age_on(day) <= 17}
    assert expected  # the sample straddles the band's edges
    assert members(campaign, daily(day)) == expected


class TestConsentAndGreylist:
    def test_data_consent_required_needs_the_latest_statement_to_be_a_grant(self) -> None:
        granted, withdrawn, regranted = (GuestFactory() for _ in range(3))
        say(granted, ConsentPurpose.DATA_PROCESSING, True)
        say(withdrawn, ConsentPurpose.DATA_PROCESSING, True, days_ago=5)
        say(withdrawn, ConsentPurpose.DATA_PROCESSING, False, days_ago=1)
        say(regranted, ConsentPurpose.DATA_PROCESSING, False, days_ago=5)
        say(regranted, ConsentPurpose.DATA_PROCESSING, True, days_ago=1)
        GuestFactory()  # never asked
        assert members(make_campaign(source=Source.GUESTS, require_data_consent=True)) == {
            granted.pk,
            regranted.pk,
        }

    def test_data_consent_required_looks_at_the_booker_of_a_stay(self) -> None:
        consenting = stay()
        say(consenting.booker, ConsentPurpose.DATA_PROCESSING, True)
        stay()
        assert members(make_campaign(require_data_consent=True)) == {consenting.pk}

    def test_communication_consent_is_for_the_purpose_on_the_first_channel(self) -> None:
        by_sms, by_email, for_service, opted_out = (stay() for _ in range(4))
        say(by_sms.booker, ConsentPurpose.MARKETING, True, "sms")
        say(by_email.booker, ConsentPurpose.MARKETING, True, "email")
        say(for_service.booker, ConsentPurpose.SERVICE, True, "sms")
        say(opted_out.booker, ConsentPurpose.MARKETING, True, "sms", days_ago=3)
        say(opted_out.booker, ConsentPurpose.MARKETING, False, "sms", days_ago=1)
        campaign = make_campaign(
            purpose=ConsentPurpose.MARKETING, require_channel_consent=True, steps=["sms", "email"]
        )
        assert members(campaign) == {by_sms.pk}

    def test_communication_consent_without_any_step_reaches_nobody(self) -> None:
        say(stay().booker, ConsentPurpose.MARKETING, True, "sms")
        assert (
            members(make_campaign(purpose=ConsentPurpose.MARKETING, require_channel_consent=True))
            == set()
        )

    def test_greylisted_guests_are_excluded_while_the_entry_is_in_force(self, source: str) -> None:
        kept, listed = record(source), record(source)
        guest_greylist(guest=_guest_of(source, listed), reason="abusive on the phone")
        assert members(make_campaign(source=source)) == {kept}
        assert members(make_campaign(source=source, exclude_greylisted=False)) == {kept, listed}

    def test_an_expired_or_lifted_greylist_entry_excludes_nobody(self) -> None:
        expiring = GuestFactory()
        guest_greylist(guest=expiring, reason="disputed bill", expires_at=timezone.now() + DAY)
        lifted = GuestFactory()
        GreylistEntry.objects.create(guest=lifted, reason="old", lifted_at=timezone.now())
        campaign = make_campaign(source=Source.GUESTS)
        later = Occurrence.daily(D, at=timezone.now() + 2 * DAY)
        assert members(campaign, later) == {expiring.pk, lifted.pk}
        assert members(campaign, Occurrence.daily(D, at=timezone.now())) == {lifted.pk}

    def test_the_greylist_flag_excludes_from_service_campaigns_too(self) -> None:
        listed = GuestFactory()
        guest_greylist(guest=listed, reason="problem guest")
        assert members(make_campaign(source=Source.GUESTS, purpose=ConsentPurpose.SERVICE)) == set()


def _guest_of(source: str, pk: int) -> Guest:
    if source == Source.GUESTS:
        return Guest.objects.get(pk=pk)
    if source == Source.RESERVATIONS:
        return Reservation.objects.get(pk=pk).booker
    return FacilityBooking.objects.get(pk=pk).guest


# --- combinations ------------------------------------------------------------------------------
def test_every_filter_must_hold_at_once() -> None:
    gold = LoyaltyTier.objects.create(code="GOLD", name="Gold")

    def candidate(**changes: Any) -> Reservation:
        guest_fields = {"nationality": "DE", "loyalty_tier": gold, **changes.pop("guest", {})}
        guest = GuestFactory(**guest_fields)
        if changes.pop("consent", True):
            say(guest, ConsentPurpose.DATA_PROCESSING, True)
        fields = {"arrival": D + 3 * DAY, "nights": 6, "nightly_rate": Decimal("120"), **changes}
        return stay(booker=guest, **fields)

    chosen = candidate()
    candidate(guest={"nationality": "TR"})
    candidate(guest={"loyalty_tier": None})
    candidate(consent=False)
    candidate(nights=4)
    candidate(nightly_rate=Decimal("500"))
    candidate(arrival=D + 2 * DAY)
    candidate(send_notifications=False)
    campaign = make_campaign(
        timing=Timing.DAYS_BEFORE_ARRIVAL,
        offset=3,
        excluded_nationalities=["TR"],
        nights_min=5,
        rate_min=Decimal("80"),
        rate_max=Decimal("300"),
        loyalty_members_only=True,
        require_data_consent=True,
    )
    assert members(campaign) == {chosen.pk}


def test_a_birthday_campaign_for_foreign_women_this_month_who_speak_german() -> None:
    chosen = GuestFactory(
        birth_date=dt.date(1985, 6, 30), gender="female", nationality="AT", language="de"
    )
    GuestFactory(birth_date=dt.date(1985, 6, 30), gender="female", nationality="TR", language="de")
    GuestFactory(birth_date=dt.date(1985, 6, 30), gender="male", nationality="AT", language="de")
    GuestFactory(birth_date=dt.date(1985, 6, 30), gender="female", nationality="AT", language="en")
    GuestFactory(birth_date=dt.date(1985, 7, 1), gender="female", nationality="AT", language="de")
    campaign = make_campaign(
        source=Source.GUESTS,
        birthday=BirthdayFilter.THIS_MONTH,
        genders=["female"],
        excluded_nationalities=["TR"],
        languages=["de"],
    )
    assert members(campaign) == {chosen.pk}


# --- evaluation: lazy, one query -----------------------------------------------------------------
def test_the_audience_is_evaluated_when_used_not_when_built() -> None:
    campaign = make_campaign(source=Source.GUESTS, timing=Timing.BIRTHDAY)
    planned = audience(campaign, daily())  # planned in advance …
    newcomer = GuestFactory(birth_date=dt.date(1999, 6, 15))  # … a guest added afterwards
    assert newcomer.pk in set(planned.values_list("pk", flat=True))


def test_counting_the_audience_is_one_query(django_assert_num_queries: Any) -> None:
    gold = LoyaltyTier.objects.create(code="GOLD", name="Gold")
    for _ in range(3):
        guest = GuestFactory(loyalty_tier=gold, nationality="DE")
        say(guest, ConsentPurpose.DATA_PROCESSING, True)
        stay(arrival=D + 3 * DAY, nights=6, booker=guest)
    campaign = make_campaign(
        purpose=ConsentPurpose.MARKETING,
        timing=Timing.DAYS_BEFORE_ARRIVAL,
        offset=3,
        catch_up=True,
        excluded_nationalities=["TR"],
        nights_min=5,
        loyalty_tiers=[gold],
        require_data_consent=True,
        age_mode=AgeMode.EXCLUDE,
        age_max=17,
        board_types=[Reservation.objects.first().board_type],
    )
    queryset = audience(campaign, daily())
    with django_assert_num_queries(1):
        assert queryset.count() == 3


def test_listing_fifty_recipients_with_their_guests_and_rooms_is_one_query(
    django_assert_num_queries: Any,
) -> None:
    for _ in range(50):
        stay(arrival=D + 3 * DAY)
    stay(arrival=D + 4 * DAY)
    queryset = audience(make_campaign(timing=Timing.DAYS_BEFORE_ARRIVAL, offset=3), daily())
    with django_assert_num_queries(1):
        rows = [(r.booker.full_name, r.room_type.name, r.board_type.name) for r in queryset]
    assert len(rows) == 50


def test_listing_spa_bookings_with_guests_and_facilities_is_one_query(
    django_assert_num_queries: Any,
) -> None:
    for hour in range(10, 20):
        booking(local(D, hour))
    queryset = audience(make_campaign(source=Source.SPA), daily())
    with django_assert_num_queries(1):
        rows = [(b.guest.full_name, b.facility.facility_type.kind) for b in queryset]
    assert len(rows) == 10


def test_a_campaign_loaded_with_its_filters_builds_without_a_query(
    django_assert_num_queries: Any,
) -> None:
    campaign = make_campaign(
        agencies=[Agency.objects.create(code="TUI", name="TUI")],
        require_channel_consent=True,
        steps=["sms"],
    )
    loaded = Campaign.objects.prefetch_related(*AUDIENCE_PREFETCH).get(pk=campaign.pk)
    with django_assert_num_queries(0):
        audience(loaded, daily())


# --- recipients: the sending rule on top of the audience ------------------------------------------
class TestRecipients:
    def test_each_record_carries_why_its_guest_may_not_be_messaged(self) -> None:
        allowed, unasked, no_data, listed = (stay() for _ in range(4))
        for reservation in (allowed, listed):
            say(reservation.booker, ConsentPurpose.MARKETING, True, "sms")
        say(no_data.booker, ConsentPurpose.DATA_PROCESSING, False)
        guest_greylist(guest=listed.booker, reason="complaints")
        campaign = make_campaign(
            purpose=ConsentPurpose.MARKETING, exclude_greylisted=False, steps=["sms"]
        )
        reasons = dict(recipients(campaign, daily()).values_list("pk", "block_reason"))
        assert reasons == {
            allowed.pk: "",
            unasked.pk: BLOCK_NO_CONSENT,
            no_data.pk: BLOCK_NO_DATA_CONSENT,
            listed.pk: BLOCK_GREYLISTED,
        }

    def test_service_messages_pass_a_greylist_under_the_sending_rule(self) -> None:
        listed = GuestFactory()
        guest_greylist(guest=listed, reason="complaints")
        campaign = make_campaign(source=Source.GUESTS, exclude_greylisted=False, steps=["email"])
        assert dict(recipients(campaign, daily()).values_list("pk", "block_reason")) == {
            listed.pk: ""
        }

    def test_the_channel_can_be_named_for_a_later_step(self) -> None:
        reservation = stay()
        say(reservation.booker, ConsentPurpose.MARKETING, True, "email")
        campaign = make_campaign(purpose=ConsentPurpose.MARKETING, steps=["sms", "email"])
        assert recipients(campaign, daily()).get().block_reason == BLOCK_NO_CONSENT
        assert recipients(campaign, daily(), channel="email").get().block_reason == ""

    def test_a_campaign_without_a_step_has_no_channel_to_check(self) -> None:
        with pytest.raises(AudienceError, match="no delivery step"):
            recipients(make_campaign(), daily())
