"""Answers go through message_send on the guest's channel, once per click (issue 14)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from channels_out.models import OutboundMessage, Status
from interfaces.inbox.models import Conversation, QuickReply
from interfaces.inbox.services import conversation_reply
from tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db
NONCE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def credits(top_up) -> None:
    top_up(100)


def test_the_answer_goes_on_the_channel_the_guest_used(guest, receive, staff, credits) -> None:
    desk = staff("Front desk")
    receive(guest.phone, "Is the spa open?", channel="whatsapp")
    conversation = Conversation.objects.get()

    message = conversation_reply(
        conversation=conversation, user=desk, nonce=NONCE, text="Yes, until 22:00."
    )

    assert message.channel == "whatsapp"
    assert message.to == guest.phone
    assert message.sent_by == desk
    assert message.source == "inbox"
    assert message.status == Status.QUEUED
    conversation.refresh_from_db()
    assert conversation.assigned_to == desk  # the one who answered takes it
    assert conversation.preview == "Yes, until 22:00."


def test_a_double_click_sends_one_message(guest, receive, staff, credits) -> None:
    desk = staff("Front desk")
    receive(guest.phone, "Hello")
    conversation = Conversation.objects.get()

    first = conversation_reply(conversation=conversation, user=desk, nonce=NONCE, text="Hi!")
    second = conversation_reply(conversation=conversation, user=desk, nonce=NONCE, text="Hi!")

    assert first.pk == second.pk
    assert OutboundMessage.objects.filter(source="inbox").count() == 1


def test_an_sms_answer_costs_credits_as_usual(guest, receive, staff, credits) -> None:
    receive(guest.phone, "Hello")
    message = conversation_reply(
        conversation=Conversation.objects.get(), user=staff("Front desk"), nonce=NONCE, text="Hi"
    )
    assert message.credits > 0


def test_outside_the_whatsapp_window_free_text_is_refused_with_the_reason(
    guest, receive, staff, credits
) -> None:
    receive(
        guest.phone, "Thanks", channel="whatsapp", sent_at=timezone.now() - dt.timedelta(hours=25)
    )
    conversation = Conversation.objects.get()

    with pytest.raises(ValidationError) as error:
        conversation_reply(
            conversation=conversation, user=staff("Front desk"), nonce=NONCE, text="Hello again"
        )

    assert "24 hours" in str(error.value.message_dict["text"])
    assert not OutboundMessage.objects.filter(source="inbox").exists()


def test_outside_the_whatsapp_window_an_approved_template_goes(
    guest, receive, staff, credits
) -> None:
    receive(
        guest.phone, "Thanks", channel="whatsapp", sent_at=timezone.now() - dt.timedelta(hours=25)
    )
    template = QuickReply.objects.create(
        title="Follow-up",
        language="tr",
        body="Merhaba {first_name}, size nasıl yardımcı olabiliriz?",
        whatsapp_template_id="HX0123456789abcdef0123456789abcdef",
    )

    message = conversation_reply(
        conversation=Conversation.objects.get(),
        user=staff("Front desk"),
        nonce=NONCE,
        quick_reply=template,
    )

    assert message.status == Status.QUEUED
    assert message.template_id == "HX0123456789abcdef0123456789abcdef"
    assert message.body == "Merhaba Ayşe, size nasıl yardımcı olabiliriz?"


def test_quick_reply_placeholders_are_filled_for_the_guest(guest, receive, staff, credits) -> None:
    ReservationFactory(booker=guest, room_number="214", status="checked_in")
    receive(guest.phone, "Wi-Fi?")
    wifi = QuickReply.objects.create(
        title="Wi-Fi", language="tr", body="{first_name} Hanım, oda {room}: şifre LYKIA2026"
    )

    message = conversation_reply(
        conversation=Conversation.objects.get(),
        user=staff("Front desk"),
        nonce=NONCE,
        quick_reply=wifi,
    )

    assert message.body == "Ayşe Hanım, oda 214: şifre LYKIA2026"
    assert message.reservation is not None


def test_an_empty_answer_is_refused(guest, receive, staff) -> None:
    receive(guest.phone, "Hello")
    with pytest.raises(ValidationError):
        conversation_reply(
            conversation=Conversation.objects.get(),
            user=staff("Front desk"),
            nonce=NONCE,
            text="  ",
        )
