"""The automatic answer is an away message: only outside the staffed hours, once a night (issue 14)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from channels_out.models import OutboundMessage

pytestmark = pytest.mark.django_db

AWAY = "The front desk answers from 08:00."


def _hours(account, start: dt.time | None, end: dt.time | None) -> None:
    account.auto_reply, account.staffed_from, account.staffed_until = AWAY, start, end
    account.save()


def _now_plus(hours: int) -> dt.time:
    return (
        (timezone.localtime() + dt.timedelta(hours=hours)).time().replace(second=0, microsecond=0)
    )


def test_no_away_message_while_staff_are_on_duty(accounts, guest, receive) -> None:
    _hours(accounts["sms"], _now_plus(-1), _now_plus(1))
    receive(guest.phone, "Hello")
    assert not OutboundMessage.objects.filter(source="auto_reply").exists()


def test_outside_the_staffed_hours_the_away_message_goes_once(accounts, guest, receive) -> None:
    _hours(accounts["sms"], _now_plus(1), _now_plus(2))
    receive(guest.phone, "Hello")
    receive(guest.phone, "Anyone there?")

    [away] = OutboundMessage.objects.filter(source="auto_reply")
    assert away.body == AWAY
    assert away.to == guest.phone


def test_without_staffed_hours_every_sender_gets_the_answer(accounts, guest, receive) -> None:
    _hours(accounts["whatsapp"], None, None)
    receive(guest.phone, "Hello", channel="whatsapp")
    assert OutboundMessage.objects.filter(source="auto_reply", channel="whatsapp").count() == 1


def test_a_keyword_gets_no_away_message(accounts, guest, receive) -> None:
    _hours(accounts["sms"], None, None)
    receive(guest.phone, "STOP")
    assert not OutboundMessage.objects.filter(source="auto_reply").exists()


def test_staffed_hours_may_run_past_midnight(accounts) -> None:
    account = accounts["sms"]
    account.staffed_from, account.staffed_until = dt.time(8), dt.time(2)
    at = timezone.make_aware(dt.datetime(2026, 12, 4, 1, 30))
    assert account.is_staffed(at)
    assert not account.is_staffed(at.replace(hour=3))
    assert account.is_staffed(at.replace(hour=23))


def test_staffed_hours_need_both_ends(accounts) -> None:
    from django.core.exceptions import ValidationError

    account = accounts["sms"]
    account.staffed_from = dt.time(8)
    with pytest.raises(ValidationError) as error:
        account.full_clean()
    assert "staffed_until" in error.value.message_dict
