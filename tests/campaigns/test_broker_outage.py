"""A broker outage when a trigger or a run is handed over is not the caller's error (R2).

The check-in and the operator's "send" commit; their trigger event or run chunk is left for
the minute tick, which picks it up once the broker is back, and every guest gets one message.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from campaigns.models import CampaignRun, Source, Trigger, TriggerEvent
from campaigns.services.runs import REDRIVE_AFTER
from campaigns.tasks import tick
from campaigns.triggers import PENDING_AFTER
from channels_out.backends import locmem
from channels_out.models import OutboundMessage, Status
from crm_messaging.ui.once import new_nonce
from guests.models import Reservation
from guests.services import reservation_check_in
from tests.broker import broker_running, broker_unreachable, wait_until, worker
from tests.factories import GuestFactory, ReservationFactory

from .test_screens_support import staff_user

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _hand_off_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "crm_messaging.handoff"]


def _tick_later_and_work(after: dt.timedelta, expected: int) -> None:
    """The broker is back: the tick (``after`` later) picks up the lost work; a worker sends."""
    with broker_running(), worker():
        later = timezone.now() + after + dt.timedelta(seconds=1)
        with time_machine.travel(later, tick=True):
            tick.apply().get()
        assert wait_until(
            lambda: OutboundMessage.objects.filter(status=Status.SENT).count() >= expected
        )
        with time_machine.travel(later + after, tick=True):
            tick.apply().get()  # a second tick finds nothing left


def test_a_check_in_while_the_broker_is_down_sends_its_welcome_once_the_tick_runs(
    make_campaign, top_up, hotel, caplog
) -> None:
    top_up(10)
    make_campaign(trigger=Trigger.CHECK_IN, texts={"en": "Welcome @NAME"})
    reservation = ReservationFactory(booker=GuestFactory(), arrival=hotel.business_date)
    with broker_unreachable(), caplog.at_level(logging.ERROR, logger="crm_messaging.handoff"):
        reservation_check_in(reservation=reservation, room_number="214")
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.CHECKED_IN
    event = TriggerEvent.objects.get(kind=Trigger.CHECK_IN)
    assert event.processed_at is None
    [logged] = _hand_off_errors(caplog)
    assert "campaigns.process_trigger_event" in logged

    _tick_later_and_work(PENDING_AFTER, expected=1)

    assert [m.reservation_id for m in locmem.outbox] == [reservation.pk]
    assert OutboundMessage.objects.count() == 1


def test_an_operator_send_while_the_broker_is_down_shows_the_run_and_the_tick_sends_it_once(
    client, make_campaign, top_up, caplog
) -> None:
    top_up(10)
    campaign = make_campaign(
        name="Spring offer",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": "Spring offer for @NAME"},
    )
    guests = GuestFactory.create_batch(3, language="en")
    client.force_login(staff_user("Marketing"))
    with broker_unreachable(), caplog.at_level(logging.ERROR, logger="crm_messaging.handoff"):
        answer = client.post(
            reverse("campaigns:campaign-send", args=[campaign.pk]), {"nonce": new_nonce()}
        )
    assert answer.status_code == 302
    run = CampaignRun.objects.get()
    assert (run.state, run.audience_size, run.chunks_done) == (CampaignRun.State.RUNNING, 3, 0)
    [logged] = _hand_off_errors(caplog)
    assert "campaigns.send_run_chunk" in logged
    assert client.get(answer["Location"]).status_code == 200

    _tick_later_and_work(REDRIVE_AFTER, expected=3)

    assert sorted(m.guest_id for m in locmem.outbox) == sorted(g.pk for g in guests)
    assert OutboundMessage.objects.count() == 3
    run.refresh_from_db()
    assert run.state == CampaignRun.State.DONE
