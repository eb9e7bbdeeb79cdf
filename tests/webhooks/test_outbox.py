"""Events are written in their cause's transaction (the outbox): none is lost when the broker
is down, none is written for a cause that rolled back, none is written or delivered twice (I2)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from channels_out.backends import Inbound
from channels_out.services.inbound import inbound_receive
from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from interfaces.webhooks.models import WebhookDelivery, WebhookEvent
from interfaces.webhooks.services import endpoint_create
from interfaces.webhooks.tasks import sweep_webhooks
from tests.broker import broker_running, broker_unreachable, wait_until, worker
from tests.factories import GuestFactory

from .conftest import library_verified


def consent(guest) -> None:
    guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel="email",
        granted=False,
        source=ConsentSource.UNSUBSCRIBE_LINK,
    )


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_event_written_while_the_broker_is_down_is_delivered_once_it_is_back(
    endpoint, receiver, caplog
) -> None:
    _, secret = endpoint
    guest = GuestFactory()
    with broker_unreachable(), caplog.at_level(logging.ERROR, logger="crm_messaging.handoff"):
        consent(guest)  # commits: the consent record and its event together
    handoff = [r.getMessage() for r in caplog.records if r.name == "crm_messaging.handoff"]
    assert len(handoff) == 1 and "webhooks.deliver" in handoff[0]
    event = WebhookEvent.objects.get()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PENDING
    assert receiver.requests == []

    with broker_running(), worker():
        with time_machine.travel(timezone.now() + dt.timedelta(seconds=1), tick=True):
            assert sweep_webhooks.apply().get() == 1
        assert wait_until(
            lambda: WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED
        )
        assert sweep_webhooks.apply().get() == 0  # nothing left to hand over
    (request,) = receiver.requests
    body = library_verified(request, secret)
    assert body["id"] == event.event_id and body["data"]["consent"]["guest_id"] == guest.pk


@pytest.mark.django_db(transaction=True)
def test_a_cause_that_rolls_back_leaves_no_event(endpoint, receiver) -> None:
    guest = GuestFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        consent(guest)
        assert WebhookEvent.objects.count() == 1  # written beside its cause …
        raise RuntimeError("the caller failed after recording the consent")
    assert not WebhookEvent.objects.exists()  # … and gone with it
    assert not WebhookDelivery.objects.exists()
    sweep_webhooks()
    assert receiver.requests == []


@pytest.mark.django_db
def test_the_same_cause_twice_makes_one_event(accounts, endpoint, receiver) -> None:
    GuestFactory(phone="+905321112233")
    inbound = Inbound(
        channel="sms", provider_message_id="SM1", from_number="+905321112233", body="Hello?"
    )
    inbound_receive(account=accounts["sms"], inbound=inbound)
    inbound_receive(account=accounts["sms"], inbound=inbound)  # the provider retried its webhook
    event = WebhookEvent.objects.get()
    assert event.type == "message.inbound"
    assert event.payload["data"]["inbound"]["body"] == "Hello?"


@pytest.mark.django_db
def test_every_endpoint_gets_the_same_event_id_and_ids_never_repeat(endpoint, receiver) -> None:
    endpoint_create(url=receiver.url("/second"), events=["consent.changed"])
    endpoint_create(url=receiver.url("/other"), events=["message.inbound"])  # not subscribed
    for _ in range(3):
        consent(GuestFactory())
    sweep_webhooks()
    requests = receiver.wait_for_requests(6)
    assert {r.path for r in requests} == {"/pms/events", "/second"}
    ids = [r.header("webhook-id") for r in requests]
    assert len(set(ids)) == 3  # three events, each to both endpoints with one id
    assert sorted(ids) == sorted([i for i in set(ids)] * 2)
    assert WebhookEvent.objects.count() == 3
    sweep_webhooks()
    assert len(receiver.requests) == 6  # delivered ones are not sent again
