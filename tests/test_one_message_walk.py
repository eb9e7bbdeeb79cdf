"""The walk of one message from check-in to receipt, through the real pieces: a check-in fires
the welcome campaign, its run queues an SMS, the worker sends it through the real twilio
library to the local fake Twilio, and Twilio's signed receipt reaches the webhook view and
marks it delivered.

What it counts: every file of ours in which a function runs between the check-in and the
receipt (a first walk loads the modules, so imports do not count; tests and migrations are
not ours; the site's middleware serves every request alike and is left out by calling the
webhook view directly). ``pytest -s`` prints the files; the README ("How one message
travels") gives the count over time.

Two counts, both below what the walk crossed when the house issue (issue 10) was filed, at
e1b80b0, measured there with this same test:
- every file: 34 then (``FILED_ALL``);
- the files of the message's own logic — leaving out model definitions, the shared kernel's
  helpers (``crm_messaging/``), the encrypted field (``channels_out/crypto.py``) and the
  read-only queries (``guests/selectors.py``): 25 then (``FILED_LOGIC``), the issue's
  "25 it crosses today"."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse

from campaigns.models import Campaign, CampaignStep, MessageVariant, Trigger
from channels_out.ledger import credits_add
from channels_out.models import OutboundMessage, Status
from channels_out.webhooks import status_webhook
from guests.services import reservation_check_in
from tests.channels_out.test_backend_twilio import fake_twilio, twilio_account
from tests.factories import GuestFactory, ReservationFactory
from tests.fakes.twilio_api import FakeTwilio, signed_status_callback, status_callback_params

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR).resolve()
FILED_ALL = 34
FILED_LOGIC = 25
WALK_CEILING = 33


def is_ours(filename: str) -> bool:
    path = Path(filename)
    if not path.is_absolute() or ROOT not in path.parents:
        return False
    parts = path.relative_to(ROOT).parts
    return parts[0] not in ("tests", ".venv", "bench") and "migrations" not in parts


def is_logic(relative: str) -> bool:
    """A file of the message's own logic: not a model definition, a kernel helper, the
    encrypted field type or the read-only queries (the count behind the issue's 25)."""
    return not (
        "/models/" in relative
        or relative.startswith("crm_messaging/")
        or relative in ("channels_out/crypto.py", "guests/selectors.py")
    )


@pytest.fixture
def fake(settings) -> Iterator[FakeTwilio]:  # type: ignore[no-untyped-def]
    with fake_twilio(settings) as server:
        yield server


@pytest.fixture
def welcome(fake: FakeTwilio, hotel, no_quiet_hours) -> Campaign:  # type: ignore[no-untyped-def]
    credits_add(amount=Decimal(100), key="walk")
    sms = twilio_account(fake, "sms")
    campaign = Campaign.objects.create(name="Welcome", trigger=Trigger.CHECK_IN)
    CampaignStep.objects.create(campaign=campaign, position=0, channel="sms", account=sms)
    MessageVariant.objects.create(campaign=campaign, language="en", text="Welcome @NAME")
    return campaign


def walk(fake: FakeTwilio, capture: Callable[..., Any]) -> OutboundMessage:
    """Check a guest in and bring his welcome SMS's receipt back; return the message."""
    guest = GuestFactory(phone="+905321234567")
    reservation = ReservationFactory(booker=guest)
    with capture(execute=True):
        reservation_check_in(reservation=reservation, room_number="214")
    message = OutboundMessage.objects.get(reservation=reservation)
    params = status_callback_params(fake.message(message.provider_message_id), "delivered")
    path = reverse("channels_out:status-webhook", kwargs={"account_id": message.account_id})
    path += f"?m={message.pk}"
    headers, body = signed_status_callback(f"http://testserver{path}", params, fake.auth_token)
    # Straight to the webhook view: the site's middleware (CSP, probes, sign-in) serves every
    # request alike and is not part of the message's walk.
    request = RequestFactory().post(
        path,
        data=body,
        content_type=headers["Content-Type"],
        headers={"X-Twilio-Signature": headers["X-Twilio-Signature"]},
    )
    assert status_webhook(request, account_id=message.account_id).status_code == 204
    message.refresh_from_db()
    return message


def test_one_message_from_check_in_to_receipt_crosses_few_files(
    welcome, fake, django_capture_on_commit_callbacks
) -> None:
    # A first walk loads every module, so the traced one counts calls, not imports.
    assert walk(fake, django_capture_on_commit_callbacks).status == Status.DELIVERED
    crossed: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and is_ours(frame.f_code.co_filename):
            crossed.add(str(Path(frame.f_code.co_filename).resolve().relative_to(ROOT)))

    sys.setprofile(profile)
    try:
        message = walk(fake, django_capture_on_commit_callbacks)
    finally:
        sys.setprofile(None)
    assert message.status == Status.DELIVERED
    files = sorted(crossed)
    print(f"\none message, check-in to receipt: {len(files)} files", *files, sep="\n  ")
    assert "guests/services/reservations.py" in files and "channels_out/webhooks.py" in files
    # A ceiling, not the goal: a change that adds a file to the walk says so here and in the
    # README ("How one message travels") instead of lengthening it unnoticed.
    assert len(files) <= WALK_CEILING < FILED_ALL, f"the walk grew to {len(files)} files: {files}"
    logic = [f for f in files if is_logic(f)]
    print(f"of which the message's own logic: {len(logic)}")
    assert len(logic) < FILED_LOGIC, f"the walk's logic grew to {len(logic)} files: {logic}"
    # Every file belongs to a layer, and a message that shows no guest link signs none.
    assert {f.split("/")[0] for f in files} <= {
        "crm_messaging",
        "guests",
        "channels_out",
        "campaigns",
        "interfaces",
    }
    assert not [f for f in files if f.startswith(("interfaces/portal/", "guests/links.py"))]
