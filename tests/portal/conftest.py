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


def sms_to(phone: str) -> list[str]:
    """The SMS queued to ``phone``, oldest first (tests run inside a transaction: queued, not yet sent)."""
    return list(
        OutboundMessage.objects.filter(channel="sms", to=phone)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def emails_to(address: str) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(channel="email", to=address).order_by("pk"))


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
