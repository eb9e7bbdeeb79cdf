"""Every event type reaches a subscribed endpoint once, written with its cause (I2):
an inbound message, a consent change, a finished campaign run and a low balance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.models import CampaignRun
from campaigns.services.runs import run_finish
from channels_out.backends import Inbound
from channels_out.models import MessagingPolicy
from channels_out.services import Step, message_send
from channels_out.services.inbound import inbound_receive
from guests.models import ConsentPurpose, ConsentSource
from interfaces.webhooks.models import WebhookEvent
from interfaces.webhooks.services import endpoint_create
from interfaces.webhooks.tasks import sweep_webhooks
from tests.factories import GuestFactory

from .conftest import library_verified

pytestmark = pytest.mark.django_db


def events_of(event_type: str) -> list[WebhookEvent]:
    return list(WebhookEvent.objects.filter(type=event_type).order_by("pk"))


def test_an_inbound_stop_tells_the_message_and_the_consent_change(
    accounts, endpoint, receiver
) -> None:
    _, secret = endpoint
    guest = GuestFactory(phone="+905321112244")
    inbound_receive(
        account=accounts["sms"],
        inbound=Inbound(
            channel="sms", provider_message_id="SM9", from_number="+905321112244", body="STOP"
        ),
    )
    (inbound,) = events_of("message.inbound")
    assert inbound.payload["data"]["inbound"] | {"id": None, "received_at": None} == {
        "id": None,
        "channel": "sms",
        "from": "+905321112244",
        "guest_id": guest.pk,
        "body": "STOP",
        "keyword": "STOP",
        "received_at": None,
    }
    (consent,) = events_of("consent.changed")
    data = consent.payload["data"]["consent"]
    assert (
        data["guest_id"],
        data["purpose"],
        data["channel"],
        data["granted"],
        data["source"],
    ) == (
        guest.pk,
        ConsentPurpose.MARKETING,
        "sms",
        False,
        ConsentSource.INBOUND_KEYWORD,
    )
    sweep_webhooks()
    bodies = [library_verified(r, secret) for r in receiver.wait_for_requests(2)]
    assert sorted(b["type"] for b in bodies) == ["consent.changed", "message.inbound"]


def test_a_finished_run_is_told_once(endpoint, receiver, make_campaign) -> None:
    campaign = make_campaign()
    run = CampaignRun.objects.create(
        campaign=campaign,
        trigger=campaign.trigger,
        occurrence="once:2026-12-04T10:00:00",
        audience_size=3,
    )
    run_finish(run.pk)
    run_finish(run.pk)  # a second chunk's call finds it done
    (event,) = events_of("campaign_run.finished")
    data = event.payload["data"]["campaign_run"]
    assert (data["id"], data["campaign"], data["state"], data["audience_size"]) == (
        run.pk,
        campaign.name,
        "done",
        3,
    )


def test_credits_low_is_told_once_per_crossing(
    accounts, top_up, receiver, django_capture_on_commit_callbacks
) -> None:
    _, secret = endpoint_create(url=receiver.url(), events=["credits.low"])
    MessagingPolicy.objects.filter(pk=MessagingPolicy.load().pk).update(low_balance_threshold=5)
    top_up(7)
    for n in range(4):  # 7 → 3: crosses once, at 4
        with django_capture_on_commit_callbacks(execute=True):
            message_send(
                steps=Step(channel="sms", text="Hello"), guest=GuestFactory(), dedupe_key=f"low:{n}"
            )
    (event,) = events_of("credits.low")
    assert Decimal(event.payload["data"]["credits"]["threshold"]) == Decimal(5)
    assert Decimal(event.payload["data"]["credits"]["available"]) == Decimal(4)
    (request,) = receiver.wait_for_requests(1)
    assert library_verified(request, secret)["type"] == "credits.low"
    assert not events_of("message.status_changed")  # not subscribed to it
