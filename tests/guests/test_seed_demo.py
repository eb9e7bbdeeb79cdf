"""``manage.py seed_demo`` builds a believable hotel relative to today, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm_messaging.phones import normalise_phone
from guests.contacts import is_ota_relay_email
from guests.demo import DEMO_HOTEL, build_plan
from guests.models import (
    ConsentPurpose,
    ConsentRecord,
    ContactChannel,
    FacilityBooking,
    FacilityType,
    GreylistEntry,
    Guest,
    GuestMerge,
    Hotel,
    Reservation,
    ReservationStatusChange,
)
from guests.selectors import consent_current, messageable_guests

Status = Reservation.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def seeded(django_db_setup: None, django_db_blocker) -> Iterator[str]:
    """Seed once for the module, inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


def counts() -> dict[str, int]:
    return {
        "guests": Guest.objects.count(),
        "reservations": Reservation.objects.count(),
        "status changes": ReservationStatusChange.objects.count(),
        "consents": ConsentRecord.objects.count(),
        "greylist": GreylistEntry.objects.count(),
        "facility bookings": FacilityBooking.objects.count(),
        "merges": GuestMerge.objects.count(),
        "users": get_user_model().objects.count(),
    }


def test_it_names_the_hotel_and_opens_today(today: dt.date) -> None:
    hotel = Hotel.load()
    assert hotel.name == DEMO_HOTEL["name"]
    assert hotel.email and hotel.website and hotel.address
    assert normalise_phone(hotel.phone) == hotel.phone
    assert hotel.business_date == today


def test_it_creates_at_least_300_guests() -> None:
    assert Guest.objects.count() >= 300


def test_guests_come_from_eight_nationalities_and_speak_eight_languages() -> None:
    nationalities = set(Guest.objects.values_list("nationality", flat=True))
    languages = set(Guest.objects.values_list("language", flat=True))
    assert {"TR", "GB", "DE", "RU", "SK", "UA", "FR"} <= nationalities
    assert nationalities & {"SA", "AE"}
    assert len(nationalities) >= 8
    assert {"tr", "en", "de", "ru", "sk", "uk", "ar", "fr"} <= languages


def test_names_are_written_in_their_own_script() -> None:
    assert Guest.objects.filter(language="ru", last_name__regex=r"^[А-ЯЁа-яё-]+$").exists()
    assert Guest.objects.filter(language="uk", first_name__regex=r"[ІіЇїЄє]").exists()
    assert Guest.objects.filter(language="ar", first_name__regex=r"^[\u0600-\u06FF]+$").exists()
    assert Guest.objects.filter(language="tr", last_name__regex=r"[ğışçöüİ]").exists()


def test_reservations_exist_in_every_status() -> None:
    statuses = set(Reservation.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)


def test_the_front_desk_has_arrivals_guests_in_house_and_departures(today: dt.date) -> None:
    yesterday = today - dt.timedelta(days=1)
    stays = Reservation.objects
    assert stays.filter(status=Status.CONFIRMED, arrival=today).exists()
    assert stays.filter(status=Status.CHECKED_IN, arrival__lt=today, departure__gt=today).exists()
    assert stays.filter(status=Status.CHECKED_IN, departure=today).exists()
    assert stays.filter(status=Status.CHECKED_OUT, departure=yesterday).exists()
    assert (
        stays.filter(
            status=Status.CONFIRMED, arrival__gt=today, arrival__lte=today + dt.timedelta(days=60)
        ).count()
        >= 30
    )
    assert not stays.filter(status=Status.CHECKED_IN, arrival__gt=today).exists()
    assert not stays.filter(status=Status.CONFIRMED, arrival__lt=today).exists()


def test_no_two_guests_in_house_share_a_room() -> None:
    rooms = list(
        Reservation.objects.filter(status=Status.CHECKED_IN).values_list("room_number", flat=True)
    )
    assert all(rooms)
    assert len(rooms) == len(set(rooms))


def test_stays_vary_in_room_board_agency_segment_channel_and_length() -> None:
    stays = Reservation.objects
    assert set(stays.values_list("board_type__code", flat=True)) == {"RO", "BB", "HB", "FB", "AI"}
    assert stays.values("room_type").distinct().count() >= 5
    assert stays.values("agency").distinct().count() >= 5
    assert stays.values("market_segment").distinct().count() >= 4
    assert stays.filter(source_channel__is_ota=True).exists()
    assert stays.filter(source_channel__is_ota=False).exists()
    assert stays.filter(nights__gte=5).exists()
    assert stays.filter(companions__isnull=False).exists()
    assert stays.filter(nightly_rate__gt=0).values("nightly_rate").distinct().count() >= 20


def test_past_transitions_ran_on_their_own_business_day() -> None:
    check_ins = ReservationStatusChange.objects.filter(action="check_in").select_related(
        "reservation"
    )
    check_outs = ReservationStatusChange.objects.filter(action="check_out").select_related(
        "reservation"
    )
    assert check_ins.exists() and check_outs.exists()
    assert all(c.business_date == c.reservation.arrival for c in check_ins)
    assert all(c.business_date == c.reservation.departure for c in check_outs)


def test_past_stays_carry_the_times_they_happened(today: dt.date) -> None:
    now = timezone.now()
    gone = Reservation.objects.filter(status=Status.CHECKED_OUT)
    assert all(timezone.localdate(r.checked_out_at) == r.departure for r in gone)
    assert all(r.created_at <= r.checked_in_at <= r.checked_out_at <= now for r in gone)
    assert not Reservation.objects.filter(created_at__gt=now).exists()


def test_some_guests_have_their_birthday_today_and_more_later_this_month(today: dt.date) -> None:
    born_today = Guest.objects.filter(birth_date__month=today.month, birth_date__day=today.day)
    assert born_today.count() >= 3
    if today.day < 28:
        assert Guest.objects.filter(
            birth_date__month=today.month, birth_date__day__gt=today.day
        ).exists()


def test_some_companions_are_under_18(today: dt.date) -> None:
    minors = Guest.objects.filter(birth_date__gt=today - dt.timedelta(days=18 * 365))
    assert minors.filter(companion_links__isnull=False).exists()


def test_repeat_guests_have_at_least_two_stays_counted_from_their_checkouts() -> None:
    repeat = Guest.objects.filter(stay_count__gte=2)
    assert repeat.count() >= 10
    for guest in repeat:
        stays = Reservation.objects.filter(
            Q(booker=guest) | Q(companion_links__guest=guest), status=Status.CHECKED_OUT
        )
        assert stays.distinct().count() == guest.stay_count


def test_there_are_vips_loyalty_members_and_debtors() -> None:
    assert Guest.objects.filter(vip_level__gt=Guest.VipLevel.NONE).exists()
    assert Guest.objects.filter(vip_level=Guest.VipLevel.VVIP).exists()
    members = Guest.objects.filter(loyalty_tier__isnull=False)
    assert members.count() >= 10
    assert members.values("loyalty_tier").distinct().count() == 3
    assert not members.filter(loyalty_number="").exists()
    assert Guest.objects.filter(outstanding_balance__gt=0).count() >= 3
    assert Guest.objects.exclude(warning_note="").exists()
    assert Guest.objects.exclude(allergens="").exists()
    assert Guest.objects.exclude(preferences="").exists()


def test_contact_details_vary_like_real_bookings() -> None:
    emails = list(Guest.objects.exclude(email="").values_list("email", flat=True))
    relay = [e for e in emails if is_ota_relay_email(e)]
    assert relay
    assert not Guest.objects.filter(email__in=relay, email_verified=True).exists()
    assert Guest.objects.filter(email_verified=True).exists()
    assert Guest.objects.filter(email="").exists()
    assert Guest.objects.filter(phone="").exists()
    assert len(emails) == len({e.lower() for e in emails})


def test_an_imported_guest_keeps_an_invalid_phone() -> None:
    invalid = Guest.objects.filter(phone_valid=False).exclude(phone="")
    assert invalid.exists()
    assert set(invalid.values_list("source", flat=True)) == {Guest.Source.IMPORT}


def test_every_valid_phone_is_e164_that_normalise_phone_accepts_unchanged() -> None:
    phones = list(Guest.objects.filter(phone_valid=True).values_list("phone", flat=True))
    assert len(phones) >= 150
    assert all(normalise_phone(phone) == phone for phone in phones)
    assert len(phones) == len(set(phones))


def test_most_guests_gave_consent_and_some_never_agreed_to_marketing() -> None:
    adults = Guest.objects.filter(
        birth_date__lte=timezone.localdate() - dt.timedelta(days=18 * 366)
    )
    with_data_consent = adults.filter(
        consent_records__purpose=ConsentPurpose.DATA_PROCESSING
    ).distinct()
    assert with_data_consent.count() > adults.count() / 2
    marketing = ConsentRecord.objects.filter(purpose=ConsentPurpose.MARKETING)
    assert adults.exclude(consent_records__in=marketing).exists()
    allowed = messageable_guests(
        Guest.objects.all(), purpose=ConsentPurpose.MARKETING, channel=ContactChannel.EMAIL
    )
    assert 0 < allowed.count() < Guest.objects.count()
    assert set(ConsentRecord.objects.values_list("source", flat=True)) >= {
        "booking",
        "staff",
        "guest_portal",
    }


def test_some_guests_withdrew_marketing_consent_they_had_given() -> None:
    withdrawn = 0
    for guest in Guest.objects.filter(
        consent_records__purpose=ConsentPurpose.MARKETING, consent_records__granted=False
    ).distinct():
        for (purpose, channel), record in consent_current(guest).items():
            if (
                purpose == ConsentPurpose.MARKETING
                and not record.granted
                and guest.consent_records.filter(
                    purpose=purpose,
                    channel=channel,
                    granted=True,
                    recorded_at__lt=record.recorded_at,
                ).exists()
            ):
                withdrawn += 1
    assert withdrawn >= 2


def test_the_greylist_has_an_expiring_a_permanent_and_an_expired_entry() -> None:
    now = timezone.now()
    active = GreylistEntry.objects.active()
    assert active.filter(expires_at__gt=now).exists()
    assert active.filter(expires_at__isnull=True).exists()
    assert GreylistEntry.objects.filter(lifted_at__isnull=True, expires_at__lte=now).exists()
    greylisted = Guest.objects.filter(greylist_entries__in=active)
    allowed = messageable_guests(
        greylisted, purpose=ConsentPurpose.MARKETING, channel=ContactChannel.EMAIL
    )
    assert not allowed.exists()


def test_facility_bookings_of_every_kind_lie_ahead_for_guests_in_house_and_arriving(
    today: dt.date,
) -> None:
    now = timezone.now()
    upcoming = FacilityBooking.objects.filter(
        starts_at__gt=now, status=FacilityBooking.Status.BOOKED
    )
    kinds = set(upcoming.values_list("facility__facility_type__kind", flat=True))
    assert kinds == {FacilityType.Kind.SPA, FacilityType.Kind.RESTAURANT, FacilityType.Kind.EVENT}
    assert upcoming.filter(starts_at__lte=now + dt.timedelta(hours=6)).exists()
    assert upcoming.filter(starts_at__date=today + dt.timedelta(days=1)).exists()
    assert upcoming.filter(reservation__status=Status.CHECKED_IN).exists()
    assert upcoming.filter(
        reservation__status=Status.CONFIRMED, reservation__arrival=today
    ).exists()
    assert upcoming.filter(reservation__isnull=True).exists()
    assert FacilityBooking.objects.exclude(status=FacilityBooking.Status.BOOKED).exists()


def test_an_ota_profile_that_confirmed_a_known_email_was_merged() -> None:
    merge = GuestMerge.objects.get()
    assert merge.moved.get("guests.reservation") == 1
    assert merge.target.email_verified


def test_the_demo_user_can_log_in() -> None:
    user = get_user_model().objects.get(username="demo")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password("demo")


def test_it_prints_a_summary(seeded: str) -> None:
    assert "Guests per nationality" in seeded
    assert "Reservations per status" in seeded
    assert "demo / demo" in seeded


def test_a_second_run_changes_nothing() -> None:
    before = counts()
    stays_before = list(Reservation.objects.order_by("pk").values_list("pk", "status", "arrival"))
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert (
        list(Reservation.objects.order_by("pk").values_list("pk", "status", "arrival"))
        == stays_before
    )
    assert "already here" in out.getvalue()


def test_a_second_run_recreates_a_missing_demo_user_and_keeps_a_changed_password() -> None:
    user = get_user_model().objects.get(username="demo")
    user.set_password("changed")
    user.save()
    call_command("seed_demo", stdout=StringIO())
    assert get_user_model().objects.get(username="demo").check_password("changed")
    user.delete()
    call_command("seed_demo", stdout=StringIO())
    assert get_user_model().objects.get(username="demo").check_password("demo")


def test_reset_rebuilds_the_same_demo_and_resets_the_password() -> None:
    before = counts()
    names = sorted(Guest.objects.values_list("first_name", "last_name", "phone"))
    user = get_user_model().objects.get(username="demo")
    user.set_password("changed")
    user.save()
    Hotel.objects.update(business_date=timezone.localdate() + dt.timedelta(days=3))
    call_command("seed_demo", "--reset", stdout=StringIO())
    assert counts() == before
    assert sorted(Guest.objects.values_list("first_name", "last_name", "phone")) == names
    assert get_user_model().objects.get(username="demo").check_password("demo")
    assert Hotel.load().business_date == timezone.localdate()


def test_it_refuses_a_database_that_holds_another_hotels_guests() -> None:
    Hotel.objects.update(name="Some Real Hotel")
    before = counts()
    for args in ((), ("--reset",)):
        with pytest.raises(CommandError, match="not the demo"):
            call_command("seed_demo", *args, stdout=StringIO())
    assert counts() == before


def test_the_plan_is_the_same_on_every_run_of_the_same_day() -> None:
    now = timezone.now()
    first = build_plan(today=timezone.localdate(now), now=now)
    second = build_plan(today=timezone.localdate(now), now=now)

    def people(plan):
        return [
            (p.first_name, p.last_name, p.email, p.phone, p.birth_date, p.language)
            for p in plan.people
        ]

    def stays(plan):
        return [
            (s.booker.key, s.arrival, s.departure, s.outcome, s.nightly_rate) for s in plan.stays
        ]

    assert people(first) == people(second)
    assert stays(first) == stays(second)
    assert [(v.guest.key, v.facility, v.starts_at) for v in first.visits] == [
        (v.guest.key, v.facility, v.starts_at) for v in second.visits
    ]
