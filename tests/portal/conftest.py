"""Fixtures for the guest portal: a guest with a stay, an SMS account with credits, the code he gets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_out.models import OutboundMessage
from guests.models import Guest, Reservation
from tests.factories import GuestFactory, ReservationFactory

PHONE = "+905321234567"
RELAY = "x7kq2m9@guest.booking.com"


@pytest.fixture
def sending(accounts: dict[str, Any], top_up: Callable[[int], None]) -> dict[str, Any]:
    """In-memory accounts on every channel and credits to spend."""
    top_up(100)
    return accounts


@pytest.fixture
def guest(db: None) -> Guest:
    """A guest from a booking portal: a real mobile number, a relay e-mail, a stay next week."""
    return GuestFactory(
        first_name="Oliver", last_name="Brown", phone=PHONE, email=RELAY, language="en"
    )


@pytest.fixture
def stay(guest: Guest) -> Reservation:
    arrival = timezone.localdate() + dt.timedelta(days=7)
    return ReservationFactory(
        booker=guest, arrival=arrival, departure=arrival + dt.timedelta(days=5), adults=2
    )


def sent(channel: str, to: str) -> list[OutboundMessage]:
    """What the provider got for ``to`` on ``channel``, oldest first.

    Tests run inside a transaction, so queued messages are delivered here as a worker would;
    the provider gets the full text, while the send log keeps codes and link tokens masked.
    """
    from channels_out.backends import locmem
    from channels_out.dispatch import deliver

    deliver(OutboundMessage.objects.filter(status="queued").values_list("pk", flat=True))
    return [m for m in locmem.outbox if m.channel == channel and m.to == to]


def sms_to(phone: str) -> list[str]:
    """The texts of the SMS sent to ``phone``, oldest first, as the guest gets them."""
    return [m.body for m in sent("sms", phone)]


def emails_to(address: str) -> list[OutboundMessage]:
    """The e-mails sent to ``address``, oldest first, as the guest gets them."""
    return sent("email", address)


def code_in(body: str) -> str:
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def link_in(body: str) -> str:
    found = re.search(r"https?://\S+", body)
    assert found, body
    return found.group(0).rstrip(".,)")


def ask_for_code(client: Client, phone: str = PHONE, **extra: Any) -> Any:
    return client.post(reverse("portal:login"), {"phone": phone}, **extra)


def enter_code(client: Client, code: str) -> Any:
    return client.post(reverse("portal:login-code"), {"code": code})


@pytest.fixture
def signed_in(client: Client, sending: dict[str, Any], stay: Reservation) -> Client:
    """A client signed in as the stay's guest, the way a guest does it."""
    ask_for_code(client)
    response = enter_code(client, code_in(sms_to(PHONE)[-1]))
    assert response.status_code == 302 and response.url == reverse("portal:home")
    return client
