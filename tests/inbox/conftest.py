"""Fixtures of the inbox tests: staff in their roles, a guest, and a guest's messages arriving."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from channels_out.backends import Inbound
from channels_out.models import ChannelAccount, InboundMessage
from channels_out.services import inbound_receive
from guests.models import Guest
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory

_ids = itertools.count(1)


@pytest.fixture
def staff(django_user_model) -> Callable[..., Any]:
    """A member of staff in a role (or none)."""

    def make(role: str | None, name: str = "") -> Any:
        sync_roles()
        username = name or (role or "nobody").lower().replace(" ", "")
        user = django_user_model.objects.create_user(username, first_name=name or role or "")
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def login(client, staff) -> Callable[..., Any]:
    def as_role(role: str | None, name: str = "") -> Any:
        user = staff(role, name)
        client.force_login(user)
        return user

    return as_role


@pytest.fixture
def guest(db: None) -> Guest:
    return GuestFactory(
        first_name="Ayşe",
        last_name="Yılmaz",
        phone="+905321234567",
        email="ayse@example.com",
        language="tr",
    )


@pytest.fixture
def receive(accounts: dict[str, ChannelAccount]) -> Callable[..., InboundMessage | None]:
    """A guest's message arriving as a provider's webhook would hand it over."""

    def arrive(
        sender: str,
        body: str,
        *,
        channel: str = "sms",
        sent_at: dt.datetime | None = None,
        provider_message_id: str = "",
    ) -> InboundMessage | None:
        return inbound_receive(
            account=accounts[channel],
            inbound=Inbound(
                provider_message_id=provider_message_id or f"IN{next(_ids)}",
                from_number=sender,
                body=body,
                channel=channel,
                sent_at=sent_at or timezone.now(),
            ),
        )

    return arrive
