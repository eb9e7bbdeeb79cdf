"""The message page's heading reads whole when the message had no address (skipped: no SMS number)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels_out.models import Status
from channels_out.services import Step, message_send
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Message #{pk}: SMS, no address"), ("tr", "Mesaj #{pk}: SMS, adres yok")],
)
def test_a_message_without_an_address_says_so_in_its_heading(
    client, operator, accounts, top_up, language, heading
) -> None:
    top_up(10)
    message = message_send(
        steps=Step(channel="sms", text="Hello"), guest=GuestFactory(phone="", phone_valid=False)
    )
    assert (message.status, message.to) == (Status.SKIPPED, "")
    client.cookies["django_language"] = language

    html = client.get(reverse("channels_out:message-detail", args=[message.pk])).content.decode()

    assert f"<h1>{heading.format(pk=message.pk)}</h1>" in html


def test_a_message_with_an_address_names_it(client, operator, accounts, top_up) -> None:
    top_up(10)
    message = message_send(
        steps=Step(channel="sms", text="Hello"), guest=GuestFactory(phone="+905321234567")
    )

    html = client.get(reverse("channels_out:message-detail", args=[message.pk])).content.decode()

    assert f"<h1>Message #{message.pk}: SMS to +905321234567</h1>" in html
