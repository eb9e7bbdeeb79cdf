"""Fixtures for the sender layer live in tests/conftest.py (campaign tests share them); the
ones here serve only the sender layer's screens."""

import pytest
from django.contrib.auth.models import Group

from channels_out.backends import TransportError, locmem
from channels_out.models import OutboundMessage, Status
from channels_out.services import Step, message_send
from interfaces.staff.roles import sync_roles


@pytest.fixture
def operator(client, django_user_model):
    """An operator, signed in on ``client``."""
    sync_roles()
    user = django_user_model.objects.create_user("operator")
    user.groups.add(Group.objects.get(name="Operator"))
    client.force_login(user)
    return user


@pytest.fixture
def unknown(accounts, top_up, deliver_queued) -> OutboundMessage:
    """An SMS whose provider timed out after the request was sent: its outcome is unknown."""
    top_up(10)
    message = message_send(
        steps=Step(channel="sms", text="Your taxi is booked.", to="+905321234567")
    )
    locmem.script(TransportError("read timed out after the request was sent", ambiguous=True))
    deliver_queued()
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    return message
