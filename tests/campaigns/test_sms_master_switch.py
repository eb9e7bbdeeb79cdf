"""The hotel's automatic-SMS switch (seed 001) stops every automatic SMS: an SMS step and the
SMS a Viber message falls back to; what staff send by hand still goes (S3, S9)."""

from __future__ import annotations

import pytest

from campaigns.models import Trigger
from channels_out.backends import locmem
from channels_out.models import MessagingPolicy, OutboundMessage, SkipReason, Status
from channels_out.services import MessageRequest, Step, message_send, message_send_many
from guests.services import reservation_check_in
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db

PHONE = "+905321234567"


@pytest.fixture
def sms_off(no_quiet_hours: MessagingPolicy) -> MessagingPolicy:
    no_quiet_hours.sms_notifications_enabled = False
    no_quiet_hours.save()
    return no_quiet_hours


def _automatic(channel: str) -> OutboundMessage:
    guest = GuestFactory(phone=PHONE)
    return message_send_many(
        [MessageRequest(steps=[Step(channel=channel, text="Hi")], guest=guest, automatic=True)]
    )[0]


def test_an_automatic_viber_message_keeps_no_sms_fallback_when_sms_is_off(
    accounts, top_up, sms_off
) -> None:
    top_up(10)
    message = _automatic("viber")
    assert (message.channel, message.status, message.fallback_plan) == ("viber", "queued", [])


def test_with_sms_on_the_same_message_falls_back_to_sms(accounts, top_up, no_quiet_hours) -> None:
    top_up(10)
    message = _automatic("viber")
    assert [step["channel"] for step in message.fallback_plan] == ["sms"]


def test_an_automatic_sms_is_logged_as_skipped_when_sms_is_off(accounts, top_up, sms_off) -> None:
    top_up(10)
    message = _automatic("sms")
    assert (message.status, message.skip_reason) == (Status.SKIPPED, SkipReason.NOTIFICATIONS_OFF)


def test_viber_with_sms_only_is_skipped_when_sms_is_off(accounts, top_up, sms_off) -> None:
    sms_off.viber_first = False  # Viber steps would go straight to SMS
    sms_off.save()
    top_up(10)
    message = _automatic("viber")
    assert (message.channel, message.skip_reason) == ("viber", SkipReason.NOTIFICATIONS_OFF)


def test_a_message_staff_send_by_hand_still_goes(accounts, top_up, sms_off) -> None:
    top_up(10)
    message = message_send(steps=Step(channel="sms", text="Hi"), guest=GuestFactory(phone=PHONE))
    assert message.status == Status.QUEUED


def test_a_check_in_campaign_on_viber_sends_no_fallback_sms_when_sms_is_off(
    make_campaign, top_up, hotel, sms_off, django_capture_on_commit_callbacks
) -> None:
    top_up(100)
    make_campaign(trigger=Trigger.CHECK_IN, steps=["viber", "sms"], texts={"en": "Welcome"})
    reservation = ReservationFactory(booker=GuestFactory(phone=PHONE), arrival=hotel.business_date)
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=reservation, room_number="214")
    message = OutboundMessage.objects.get()
    assert (message.channel, message.fallback_plan) == ("viber", [])
    assert [m.channel for m in locmem.outbox] == ["viber"]
