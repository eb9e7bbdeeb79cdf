"""The credits report for a period (K4) and the low-balance warning (K5)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from channels_out import dispatch
from channels_out.ledger import credits_add
from channels_out.models import MessagingPolicy
from channels_out.selectors import credit_balance, credit_report
from channels_out.services import Step, message_send
from guests.models import Guest
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def _send(channel: str, text: str, *, user=None, guest: Guest | None = None, origin=None) -> None:
    message = message_send(
        steps=Step(channel=channel, text=text, subject="s"),
        guest=guest or GuestFactory(),
        user=user,
        origin=origin,
    )
    dispatch.deliver([message.pk])


def test_the_report_adds_up_by_channel_staff_and_origin(accounts, django_user_model) -> None:
    frontdesk = django_user_model.objects.create_user("ayse", first_name="Ayşe", last_name="K")
    day1 = timezone.make_aware(dt.datetime(2026, 11, 20, 12))
    with time_machine.travel(day1, tick=False):
        credits_add(amount=Decimal(100), key="buy-1")
        _send("sms", "x" * 161, user=frontdesk)  # two parts
    with time_machine.travel(day1 + dt.timedelta(days=2), tick=False):
        credits_add(amount=Decimal(50), key="buy-2")
        origin = GuestFactory(
            first_name="Origin"
        )  # any model can be an origin; its str() labels the row
        _send("sms", "hello", origin=origin)
        _send("viber", "hello")
        _send("email", "hello", user=frontdesk)

    report = credit_report(start=dt.date(2026, 11, 21), end=dt.date(2026, 11, 22))
    assert (report.opening, report.bought, report.spent, report.closing) == (
        Decimal(98),
        Decimal(50),
        Decimal(2),
        Decimal(146),
    )
    assert report.messages_sent == 3
    assert {r.label: (r.messages, r.credits) for r in report.by_channel} == {
        "SMS": (1, Decimal(1)),
        "Viber": (1, Decimal(1)),
        "E-mail": (1, Decimal(0)),
    }
    assert {r.label: r.messages for r in report.by_staff} == {"Ayşe K": 1, "automatic": 2}
    assert {r.label: r.messages for r in report.by_campaign} == {
        "Origin Example": 1,
        "one-off messages": 2,
    }

    whole = credit_report(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
    assert (whole.opening, whole.bought, whole.spent, whole.closing) == (
        Decimal(0),
        Decimal(150),
        Decimal(4),
        Decimal(146),
    )
    assert [(d.isoformat(), ch, c) for d, ch, c in whole.daily if ch == "SMS"] == [
        ("2026-11-20", "SMS", Decimal(2)),
        ("2026-11-22", "SMS", Decimal(1)),
    ]


def test_the_balance_warns_below_the_threshold(db) -> None:
    policy = MessagingPolicy.load()
    policy.low_balance_threshold = Decimal(20)
    policy.save()
    credits_add(amount=Decimal(19), key="a")
    assert credit_balance().is_low
    credits_add(amount=Decimal(1), key="b")
    assert not credit_balance().is_low
