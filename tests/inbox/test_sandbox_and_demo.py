"""The demo inbox is alive: sandbox guests at numbers ending in 6666 answer, and the demo has
open conversations in Turkish, English, German and Russian (issue 14)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from channels_out.backends.sandbox import GUEST_ANSWERS
from channels_out.models import ChannelAccount, InboundMessage, OutboundMessage
from channels_out.services import Step, message_send
from interfaces.inbox.models import Conversation, QuickReply
from tests.factories import GuestFactory, ReservationFactory


@pytest.fixture
def sandbox(live_server, settings, no_quiet_hours) -> dict[str, ChannelAccount]:
    settings.PUBLIC_BASE_URL = live_server.url
    call_command("setup_sandbox", verbosity=0)
    return {a.channel: a for a in ChannelAccount.objects.all()}


@pytest.mark.django_db(transaction=True)
def test_a_sandbox_guest_at_6666_answers_in_their_language(sandbox) -> None:
    guest = GuestFactory(phone="+905321236666", language="de")

    message_send(
        steps=Step(channel="whatsapp", template_id="HXwelcome", text="Willkommen!"),
        guest=guest,
        language="de",
    )

    answer = InboundMessage.objects.get(from_number=guest.phone)
    assert answer.body == GUEST_ANSWERS["de"]
    assert answer.channel == "whatsapp"
    assert Conversation.objects.get(guest=guest).preview == GUEST_ANSWERS["de"]


@pytest.mark.django_db(transaction=True)
def test_a_sandbox_guest_does_not_answer_the_away_message(sandbox) -> None:
    account = sandbox["sms"]
    now = timezone.localtime()
    account.staffed_from = (now + dt.timedelta(hours=1)).time()
    account.staffed_until = (now + dt.timedelta(hours=2)).time()
    account.save()
    from channels_out.backends import Inbound
    from channels_out.services import inbound_receive

    inbound_receive(
        account=account,
        inbound=Inbound(
            provider_message_id="SB1", from_number="+905321236666", body="Hello?", channel="sms"
        ),
    )

    assert OutboundMessage.objects.filter(source="auto_reply").count() == 1
    assert InboundMessage.objects.count() == 1  # no answer to the away message, no loop


@pytest.mark.django_db
def test_the_demo_has_open_conversations_in_four_languages(no_quiet_hours) -> None:
    for index, language in enumerate(("tr", "en", "de", "ru"), start=1):
        ReservationFactory(
            booker=GuestFactory(language=language, phone=f"+90532{index}{index}{index}0001"),
            status="checked_in",
        )
    call_command("setup_sandbox", verbosity=0)

    call_command("seed_inbox", verbosity=0)
    call_command("seed_inbox", verbosity=0)

    conversations = Conversation.objects.select_related("guest")
    assert conversations.count() == 5
    assert {c.guest.language for c in conversations if c.guest} == {"tr", "en", "de", "ru"}
    assert all(c.is_open for c in conversations)
    assert all(c.guest.phone.endswith("6666") for c in conversations if c.guest)
    assert {r.language for r in QuickReply.objects.all()} == {"tr", "en", "de", "ru"}
