"""A broker outage at commit is not the caller's error (R2).

The message row is committed before its task is handed to the broker; when the broker cannot
take the task the hand-off is logged, the caller is told "queued" (which is true), and the
sweeper sends the message once the broker is back — exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from channels_out.backends import locmem
from channels_out.dispatch import REDISPATCH_AFTER
from channels_out.ledger import available_credits
from channels_out.models import LedgerEntry, MessagingPolicy, OutboundMessage, Status
from channels_out.services import Step, message_send
from channels_out.services.credits import credits_adjust
from channels_out.tasks import sweep
from interfaces.staff.roles import sync_roles
from tests.broker import broker_running, broker_unreachable, wait_until, worker
from tests.factories import GuestFactory, ReservationFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_low_balance_alert(db: None) -> None:
    """Small top-ups sit under the default low-balance threshold (100), so each send would also
    hand the managers' alert to the broker after commit; these tests count their own hand-offs
    (the alert is tested in test_credit_alerts.py)."""
    MessagingPolicy.objects.filter(pk=MessagingPolicy.load().pk).update(low_balance_threshold=0)


def _hand_off_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "crm_messaging.handoff"]


def _sweep_and_work(message: OutboundMessage) -> None:
    """The broker is back: the sweeper (a minute later) hands the row over, a worker sends it."""
    with broker_running():
        later = timezone.now() + REDISPATCH_AFTER + dt.timedelta(seconds=1)
        with time_machine.travel(later, tick=True):
            assert sweep.apply().get()["dispatched"] == 1
        with worker():
            assert wait_until(
                lambda: OutboundMessage.objects.get(pk=message.pk).status == Status.SENT
            )
            # A second sweep finds nothing left to hand over.
            with time_machine.travel(later + REDISPATCH_AFTER, tick=True):
                assert sweep.apply().get()["dispatched"] == 0


def test_a_message_queued_while_the_broker_is_down_is_kept_and_sent_once_by_the_sweeper(
    accounts, top_up, caplog
) -> None:
    top_up(5)
    guest = GuestFactory()
    with broker_unreachable(), caplog.at_level(logging.ERROR, logger="crm_messaging.handoff"):
        message = message_send(steps=Step(channel="sms", text="Your room is ready."), guest=guest)
    assert message.status == Status.QUEUED
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.QUEUED  # committed
    [logged] = _hand_off_errors(caplog)
    assert "channels_out.deliver_messages" in logged and "OperationalError" in logged
    assert locmem.outbox == []

    _sweep_and_work(message)

    assert [m.pk for m in locmem.outbox] == [message.pk]  # sent, and only once
    assert LedgerEntry.objects.filter(message=message, kind="post").count() == 1
    assert available_credits() == Decimal(4)


def test_the_front_desk_sees_queued_when_the_broker_is_down(
    client, django_user_model, accounts, top_up, hotel, caplog
) -> None:
    top_up(5)
    sync_roles()
    user = django_user_model.objects.create_user("frontdesk")
    user.groups.add(Group.objects.get(name="Front desk"))
    client.force_login(user)
    stay = ReservationFactory(
        booker=GuestFactory(phone="+905321234567"), arrival=hotel.business_date
    )
    page = reverse("guests:reservation-detail", args=[stay.pk])
    with broker_unreachable(), caplog.at_level(logging.ERROR, logger="crm_messaging.handoff"):
        response = client.post(
            reverse("guests:reservation-send", args=[stay.pk]),
            {
                "recipient": stay.booker_id,
                "channel": "sms",
                "to": "+90 532 123 45 67",
                "text": "Your room is ready.",
                "nonce": "0123456789abcdef0123456789abcdef",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == f"{page}#messages"
    assert len(_hand_off_errors(caplog)) == 1
    message = OutboundMessage.objects.get()
    assert message.status == Status.QUEUED

    shown = client.get(page)
    notices = [str(m) for m in shown.context["messages"]]
    assert notices == ["SMS to +905321234567 is on its way · 1 credit."]
    assert [m.status for m in shown.context["history"]] == [Status.QUEUED]

    _sweep_and_work(message)
    assert [m.pk for m in locmem.outbox] == [message.pk]


def test_a_top_up_while_the_broker_is_down_still_commits_and_requeues(
    accounts, top_up, caplog
) -> None:
    """Paying credits resumes messages held for credits; their hand-off failing is not the manager's error."""
    held = message_send(steps=Step(channel="sms", text="Hello"), guest=GuestFactory())
    assert held.skip_reason == "no_credits"
    with broker_unreachable(), caplog.at_level(logging.ERROR, logger="crm_messaging.handoff"):
        credits_adjust(amount=Decimal(3), note="top-up by hand", key="adj-outage")
    assert OutboundMessage.objects.get(pk=held.pk).status == Status.QUEUED
    assert len(_hand_off_errors(caplog)) == 1

    _sweep_and_work(held)
    assert [m.pk for m in locmem.outbox] == [held.pk]
