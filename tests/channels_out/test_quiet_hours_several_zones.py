"""Quiet hours for a guest who may be in several zones (S9): the most restrictive window."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from channels_out.models import MessagingPolicy
from channels_out.policy import quiet_hours_end, recipient_timezones
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db
MOSCOW = ZoneInfo("Europe/Moscow")
KAMCHATKA = ZoneInfo("Asia/Kamchatka")
ISTANBUL = ZoneInfo("Europe/Istanbul")
RUSSIAN_MOBILE = "+79123456789"
AUSTRALIAN_MOBILE = "+61412345678"


@pytest.fixture
def policy() -> MessagingPolicy:
    policy = MessagingPolicy.load()
    policy.quiet_start_service, policy.quiet_end_service = dt.time(22), dt.time(8)
    policy.quiet_start_marketing, policy.quiet_end_marketing = dt.time(20), dt.time(10)
    policy.save()
    return policy


def _end(policy, *, to, at, purpose="service", nationality=""):
    guest = GuestFactory.build(nationality=nationality)
    return quiet_hours_end(channel="sms", purpose=purpose, to=to, guest=guest, policy=policy, at=at)


def test_the_numbers_zones_are_narrowed_by_the_nationality() -> None:
    russian = recipient_timezones(to=RUSSIAN_MOBILE, guest=GuestFactory.build(nationality="RU"))
    assert ZoneInfo("Asia/Almaty") not in russian  # +7 is Kazakhstan too, but not for him
    assert {MOSCOW, KAMCHATKA} <= set(russian)
    kazakh = recipient_timezones(to=RUSSIAN_MOBILE, guest=GuestFactory.build(nationality="KZ"))
    assert MOSCOW not in kazakh and ZoneInfo("Asia/Almaty") in kazakh
    # Without a number, the nationality's zones; without either, the hotel's.
    assert MOSCOW in recipient_timezones(to="", guest=GuestFactory.build(nationality="RU"))
    assert recipient_timezones(to="", guest=None) == (ISTANBUL,)


def test_a_russian_mobile_waits_for_eight_in_moscow_though_it_is_afternoon_in_kamchatka(
    policy,
) -> None:
    at = dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)  # 07:00 Moscow, 16:00 Kamchatka
    assert _end(policy, to=RUSSIAN_MOBILE, at=at, nationality="RU") == dt.datetime(
        2026, 11, 24, 8, 0, tzinfo=MOSCOW
    )


def test_a_late_evening_in_the_east_waits_through_the_night_in_the_west(policy) -> None:
    at = dt.datetime(2026, 11, 24, 11, 0, tzinfo=dt.UTC)  # 23:00 Kamchatka, 14:00 Moscow
    # After 08:00 in Kamchatka it is 23:00 in Moscow: the message waits for Moscow's morning.
    assert _end(policy, to=RUSSIAN_MOBILE, at=at, nationality="RU") == dt.datetime(
        2026, 11, 25, 8, 0, tzinfo=MOSCOW
    )


def test_the_hours_free_everywhere_are_not_held(policy) -> None:
    at = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)  # 09:00 Moscow, 18:00 Kamchatka
    assert _end(policy, to=RUSSIAN_MOBILE, at=at, nationality="RU") is None


def test_an_australian_mobile_waits_for_the_westernmost_morning(policy) -> None:
    at = dt.datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Australia/Sydney"))
    # 04:30 on the Cocos Islands, which an Australian mobile may also be on.
    assert _end(policy, to=AUSTRALIAN_MOBILE, at=at) == dt.datetime(
        2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Indian/Cocos")
    )


def test_a_window_that_leaves_no_hour_free_anywhere_falls_back_to_one_clock(policy) -> None:
    # Marketing 20:00–10:00 across Russia's zones is quiet around the clock: the hotel's clock
    # decides instead of holding the message for ever.
    at = dt.datetime(2026, 11, 24, 21, 0, tzinfo=ISTANBUL)
    assert _end(
        policy, to=RUSSIAN_MOBILE, at=at, purpose="marketing", nationality="RU"
    ) == dt.datetime(2026, 11, 25, 10, 0, tzinfo=ISTANBUL)


def test_a_single_zone_number_is_unchanged(policy) -> None:
    at = dt.datetime(2026, 11, 24, 23, 0, tzinfo=ISTANBUL)
    assert _end(policy, to="+905321234567", at=at) == dt.datetime(
        2026, 11, 25, 8, 0, tzinfo=ISTANBUL
    )
