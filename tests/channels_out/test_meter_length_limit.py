"""The counter says a text is over the channel's limit before Send — with the very refusal the
sender gives (one rule, ``channels_out.text``) — instead of counting "14 parts · 14 credits"
for a message that would never go."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from channels_out.meter import message_meter
from channels_out.services import Step, message_send
from channels_out.text import MAX_SMS_CHARS, MAX_VIBER_CHARS
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(client, django_user_model):  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_user("fd")
    user.user_permissions.add(Permission.objects.get(codename="send_one_off"))
    client.force_login(user)
    return user


def counter(client, text: str, channel: str = "sms") -> str:  # type: ignore[no-untyped-def]
    answer = client.post(
        reverse("channels_out:meter"), {"text": text, "channel": channel, "to": "+905321234567"}
    )
    assert answer.status_code == 200
    return answer.content.decode()


def test_a_text_over_1600_characters_is_flagged_not_priced(client, writer, top_up) -> None:
    top_up(100)

    html = counter(client, "x" * (MAX_SMS_CHARS + 100))

    assert "An SMS message is at most 1600 characters; this one has 1700." in html
    assert "cannot be sent" in html
    assert "part of" not in html and "parts of" not in html and "credits" not in html


def test_a_text_of_exactly_1600_characters_is_counted_as_usual(client, writer, top_up) -> None:
    top_up(100)

    html = counter(client, "x" * MAX_SMS_CHARS)

    assert "at most" not in html
    assert "11 parts of 153" in html and "cost 11 credits" in html


def test_viber_has_its_own_limit(client, writer, top_up) -> None:
    top_up(100)

    html = counter(client, "x" * (MAX_VIBER_CHARS + 1), channel="viber")

    assert "A Viber message is at most 1000 characters; this one has 1001." in html


def test_the_counter_and_the_sender_refuse_with_the_same_words(accounts, top_up) -> None:
    top_up(100)
    text = "ş" * (MAX_SMS_CHARS + 1)
    meter = message_meter(text=text, channel="sms", to="+905321234567")

    with pytest.raises(ValidationError) as refused:
        message_send(steps=Step(channel="sms", text=text), guest=GuestFactory())

    assert meter["too_long"] and (meter["parts"], meter["cost"]) == (0, 0)
    assert refused.value.message_dict["text"] == [meter["too_long"]]


def test_the_warning_is_in_turkish_for_turkish_staff(client, writer, top_up) -> None:
    top_up(100)
    with translation.override("tr"):
        html = client.post(
            reverse("channels_out:meter"),
            {"text": "x" * 1601, "channel": "sms"},
            HTTP_ACCEPT_LANGUAGE="tr",
        ).content.decode()

    assert "1600" in html and "1601" in html
    assert "at most" not in html
