"""Issue 13's "done when", through the real HTTP API: a PMS creates a guest and a reservation,
checks the guest in (the welcome campaign fires once), sends a message and receives its
delivery status by webhook at its own receiver.

Everything runs as in production: the API on a live server, a real Celery worker on Redis,
the sandbox provider posting its signed receipt to our status webhook, and the signed
event POSTed to a loopback HTTP receiver, verified with the standardwebhooks library.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from django.core.management import call_command

from campaigns.models import Campaign, CampaignRun, CampaignStep, MessageVariant, Trigger
from channels_out.models import OutboundMessage, Status
from guests.models import Hotel
from interfaces.api.services import api_key_create
from tests.broker import broker_running, wait_until, worker
from tests.factories import BoardTypeFactory, RoomTypeFactory

from .conftest import library_verified

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def welcome_campaign() -> Campaign:
    campaign = Campaign.objects.create(name="Welcome SMS", trigger=Trigger.CHECK_IN)
    CampaignStep.objects.create(campaign=campaign, position=0, channel="sms")
    MessageVariant.objects.create(
        campaign=campaign, language="en", text="Welcome @NAME, your room is @ROOM."
    )
    return campaign


def test_a_pms_books_checks_in_sends_and_hears_the_delivery(
    live_server: Any, settings: Any, receiver: Any, no_quiet_hours: Any
) -> None:
    settings.PUBLIC_BASE_URL = live_server.url  # where the sandbox posts its receipts
    call_command("setup_sandbox", verbosity=0)  # sandbox accounts and credits
    RoomTypeFactory(code="STD")
    BoardTypeFactory(code="BB")
    welcome_campaign()
    _, raw_key = api_key_create(
        name="Opera PMS",
        scopes=["guests:write", "reservations:write", "messages:send", "webhooks:manage"],
    )
    pms = requests.Session()
    pms.headers["Authorization"] = f"Bearer {raw_key}"
    api = f"{live_server.url}/api/v1"

    with broker_running(), worker():
        # The PMS subscribes to message statuses (and keeps the secret it gets once).
        answer = pms.post(
            f"{api}/webhooks/", json={"url": receiver.url(), "events": ["message.status_changed"]}
        )
        assert answer.status_code == 201, answer.text
        secret = answer.json()["secret"]

        guest = pms.put(
            f"{api}/guests/opera:G-1001",
            json={"first_name": "Oliver", "last_name": "Hart", "phone": "0532 123 45 67"},
        )
        assert guest.status_code == 201, guest.text
        today = Hotel.load().business_date
        stay = {
            "booker": "G-1001",
            "arrival": today.isoformat(),
            "departure": (today + dt.timedelta(days=3)).isoformat(),
            "room_type": "STD",
            "board_type": "BB",
        }
        assert pms.put(f"{api}/reservations/opera:R-77", json=stay).status_code == 201
        for _ in range(2):  # the PMS sends its check-in twice: the second changes nothing
            checked_in = pms.put(
                f"{api}/reservations/opera:R-77",
                json={**stay, "status": "checked_in", "room_number": "214"},
            )
            assert checked_in.status_code == 200, checked_in.text
        assert checked_in.json()["status"] == "checked_in"

        sent = pms.post(
            f"{api}/messages/",
            json={"channel": "sms", "guest": "opera:G-1001", "text": "Your taxi is at the door."},
            headers={"Idempotency-Key": "taxi-214"},
        )
        assert sent.status_code == 201, sent.text
        message_id = sent.json()["id"]

        def delivered_heard() -> bool:
            return any(
                r.json
                and r.json["data"]["message"]["id"] == message_id
                and r.json["data"]["message"]["status"] == Status.DELIVERED
                for r in receiver.requests
            )

        assert wait_until(delivered_heard, seconds=60)
        assert wait_until(
            lambda: OutboundMessage.objects.filter(status=Status.DELIVERED).count() == 2,
            seconds=60,
        )

    # The welcome campaign fired once, for the one check-in.
    (run,) = CampaignRun.objects.filter(trigger=Trigger.CHECK_IN)
    (welcome,) = OutboundMessage.objects.filter(source="campaign")
    assert welcome.body == "Welcome Oliver, your room is 214." and welcome.reservation is not None
    # Every event the receiver got is ours (signature verified) and about one of the two messages.
    events = [library_verified(request, secret) for request in receiver.requests]
    ids = {event["data"]["message"]["id"] for event in events}
    assert ids == {message_id, welcome.pk}
    statuses = [
        e["data"]["message"]["status"] for e in events if e["data"]["message"]["id"] == message_id
    ]
    assert Status.DELIVERED in statuses
    # At least once, but each event once per cause: no two events share an id with a different body.
    by_id: dict[str, dict] = {}
    for event in events:
        assert by_id.setdefault(event["id"], event) == event
    assert len(
        {(e["data"]["message"]["id"], e["data"]["message"]["status"]) for e in events}
    ) == len(by_id)
