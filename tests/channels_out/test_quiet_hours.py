"""Quiet hours in the guest's local time (S9): due messages wait for the window."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from channels_out import dispatch
from channels_out.backends import locmem
from channels_out.models import MessagingPolicy, Status
from channels_out.policy import quiet_hours_end, recipient_timezone
from channels_out.services import Step, message_send
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db
ISTANBUL = ZoneInfo("Europe/Istanbul")


@pytest.fixture
def policy(accounts) -> MessagingPolicy:
    policy = MessagingPolicy.load()
    policy.quiet_start_service, policy.quiet_end_service = dt.time(22), dt.time(8)
    policy.quiet_start_marketing, policy.quiet_end_marketing = dt.time(20), dt.time(10)
    policy.save()
    return policy


def test_the_time_zone_comes_from_the_phone_then_nationality_then_the_hotel() -> None:
    assert recipient_timezone(to="+905321234567", guest=None).key == "Europe/Istanbul"
    # A UK mobile is London, Jersey, Guernsey or Man: one clock, so it decides.
    assert recipient_timezone(to="+447911123456", guest=None).utcoffset(
        dt.datetime(2026, 11, 24)
    ) == dt.timedelta(0)
    # A Russian mobile spans eleven zones: the nationality cannot narrow it either, so the hotel's.
    assert (
        recipient_timezone(to="+79123456789", guest=GuestFactory.build(nationality="RU")).key
        == "Europe/Istanbul"
    )
    # An e-mail address says nothing: a German guest's country does.
    assert (
        recipient_timezone(to="", guest=GuestFactory.build(nationality="DE")).key == "Europe/Berlin"
    )


def test_a_message_due_at_night_waits_for_the_morning_in_the_guests_time(policy, top_up) -> None:
    top_up(5)
    night = dt.datetime(2026, 11, 24, 23, 30, tzinfo=ISTANBUL)
    with time_machine.travel(night, tick=False):
        message = message_send(
            steps=Step(channel="sms", text="Your transfer is booked"),
            guest=GuestFactory(phone="+905321234567"),
        )
        dispatch.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.not_before == dt.datetime(2026, 11, 25, 8, 0, tzinfo=ISTANBUL)
    with time_machine.travel(dt.datetime(2026, 11, 25, 8, 1, tzinfo=ISTANBUL), tick=False):
        dispatch.deliver(dispatch.sweep()["due"])
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(locmem.outbox) == 1


def test_london_evening_is_not_quiet_when_istanbul_is(policy) -> None:
    at = dt.datetime(2026, 11, 24, 22, 30, tzinfo=ISTANBUL)  # 19:30 in London
    assert (
        quiet_hours_end(
            channel="sms", purpose="service", to="+447911123456", guest=None, policy=policy, at=at
        )
        is None
    )
    assert quiet_hours_end(
        channel="sms", purpose="service", to="+905321234567", guest=None, policy=policy, at=at
    ) == dt.datetime(2026, 11, 25, 8, 0, tzinfo=ISTANBUL)


def test_marketing_has_its_own_longer_window(policy) -> None:
    at = dt.datetime(2026, 11, 24, 21, 0, tzinfo=ISTANBUL)
    assert (
        quiet_hours_end(
            channel="sms", purpose="service", to="+905321234567", guest=None, policy=policy, at=at
        )
        is None
    )
    assert quiet_hours_end(
        channel="sms", purpose="marketing", to="+905321234567", guest=None, policy=policy, at=at
    ) == dt.datetime(2026, 11, 25, 10, 0, tzinfo=ISTANBUL)


def test_a_window_within_one_day_works_too(policy) -> None:
    policy.quiet_start_service, policy.quiet_end_service = dt.time(13), dt.time(15)
    at = dt.datetime(2026, 11, 24, 14, 0, tzinfo=ISTANBUL)
    assert quiet_hours_end(
        channel="sms", purpose="service", to="+905321234567", guest=None, policy=policy, at=at
    ) == dt.datetime(2026, 11, 24, 15, 0, tzinfo=ISTANBUL)


def test_email_is_not_held_by_quiet_hours(policy) -> None:
    at = dt.datetime(2026, 11, 24, 3, 0, tzinfo=ISTANBUL)
    assert (
        quiet_hours_end(
            channel="email",
            purpose="marketing",
            to="a@example.com",
            guest=None,
            policy=policy,
            at=at,
        )
        is None
    )
