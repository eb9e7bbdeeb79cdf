"""The inbox in a real browser (issue 14): a guest's WhatsApp arrives as a signed webhook to the
live server, the unread badge appears on another page without a reload, the front desk answers
with a Turkish quick reply, and the sandbox delivers it. The screenshot goes to the README."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from channels_out.backends import Inbound, sandbox
from channels_out.models import ChannelAccount, OutboundMessage, Status
from channels_out.services import inbound_receive
from guests.models import Guest, Hotel, Reservation
from interfaces.inbox.models import Conversation, QuickReply
from tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hotel_with_sandbox(reference_data, no_quiet_hours) -> ChannelAccount:
    call_command("setup_sandbox", verbosity=0)
    whatsapp = ChannelAccount.objects.get(channel="whatsapp")
    whatsapp.staffed_from, whatsapp.staffed_until = dt.time(0), dt.time(23, 59)
    whatsapp.save()
    guest = Guest.objects.create(
        first_name="Ayşe",
        last_name="Yılmaz",
        phone="+905321234567",
        phone_valid=True,
        language="tr",
        nationality="TR",
        vip_level=1,
    )
    today = Hotel.load().business_date
    ReservationFactory(
        booker=guest,
        arrival=today,
        departure=today + dt.timedelta(days=4),
        room_number="214",
        status=Reservation.Status.CHECKED_IN,
        nightly_rate=Decimal("140.00"),
    )
    QuickReply.objects.create(
        title="Havlu",
        language="tr",
        body="Merhaba {first_name} Hanım, havlularınız {room} numaralı odaya hemen geliyor.",
    )
    QuickReply.objects.create(
        title="Towels", language="en", body="Hello {first_name}, towels are on their way."
    )
    return whatsapp


def test_a_guests_whatsapp_reaches_the_front_desk_who_answers_in_turkish(
    page, live_server, login_as, screenshot, hotel_with_sandbox
) -> None:
    login_as("Front desk")
    page.goto(reverse("guests:reservation-list"))
    badge = page.locator("#inbox-badge .badge.unread")
    expect(badge).to_have_count(0)

    body = sandbox.inbound_body(
        from_number="+905321234567",
        body="Merhaba, odaya iki havlu daha alabilir miyiz?",
        channel="whatsapp",
    )
    answer = requests.post(
        live_server.url
        + reverse("channels_out:inbound-webhook", kwargs={"account_id": hotel_with_sandbox.pk}),
        data=body,
        headers={
            "Content-Type": "application/json",
            sandbox.SIGNATURE_HEADER: sandbox.sign(hotel_with_sandbox, body),
        },
        timeout=10,
    )
    assert answer.status_code in (200, 204)

    expect(badge).to_have_text("1", timeout=20_000)  # polled, no reload
    badge.click()
    page.get_by_role("link", name="Ayşe Yılmaz").click()
    thread = page.locator("#thread")
    expect(thread).to_contain_text("iki havlu daha")
    expect(page.locator("#whatsapp-window")).to_contain_text("WhatsApp window: 23 h")
    expect(page.locator(".stay-card")).to_contain_text("214")
    # Shown is read: the thread posts its read marker (once) and the badge clears.
    expect(page.locator("#inbox-badge .badge.unread")).to_have_count(0, timeout=20_000)

    page.get_by_role("button", name="Havlu").click()
    box = page.get_by_label("Answer")
    expect(box).to_have_value("Merhaba Ayşe Hanım, havlularınız 214 numaralı odaya hemen geliyor.")
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".flash")).to_contain_text("Answer on its way.")
    expect(thread.locator(".bubble.out")).to_contain_text("havlularınız 214")
    expect(thread.locator(".bubble.out .badge").first).to_have_text("Delivered", timeout=20_000)
    expect(page.locator("#inbox-badge .badge.unread")).to_have_count(0)
    screenshot("inbox")

    message = OutboundMessage.objects.get(source="inbox")
    assert (message.channel, message.status, message.to) == (
        "whatsapp",
        Status.DELIVERED,
        "+905321234567",
    )
    assert message.sent_by is not None and message.sent_by.username == "frontdesk"
    assert Conversation.objects.get().assigned_to == message.sent_by


def test_the_send_button_is_disabled_while_the_answer_is_on_its_way(
    page, live_server, login_as, reference_data, no_quiet_hours
) -> None:
    """QA1 item 13: the reply goes through htmx, so ``hx-disabled-elt`` disables the Send
    button until the answer is back; the live counter inside the form does not inherit the
    selector (which found nothing from there and put an error in the console)."""
    call_command("setup_sandbox", verbosity=0)
    inbound_receive(
        account=ChannelAccount.objects.get(channel="sms", is_default=True),
        inbound=Inbound(
            provider_message_id="IN-held",
            from_number="+905321234567",
            body="Is breakfast included?",
            channel="sms",
            sent_at=timezone.now(),
        ),
    )
    conversation = Conversation.objects.get()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    held: list = []
    page.route("**/reply/", lambda route: held.append(route))

    login_as("Front desk")
    page.goto(reverse("inbox:conversation", args=[conversation.pk]))
    page.get_by_label("Answer").fill("Yes, from 7 to 10.")
    expect(page.locator("#meter")).to_contain_text("cost 1 credit")
    send = page.get_by_role("button", name="Send")
    expect(send).to_be_enabled()
    send.click()

    expect(send).to_be_disabled()  # the request is held: the answer is on its way
    assert len(held) == 1 and held[0].request.method == "POST"
    held[0].continue_()
    expect(page.locator(".flash")).to_contain_text("Answer on its way.")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    assert OutboundMessage.objects.filter(source="inbox").count() == 1
    assert [e for e in errors if "hx-disabled-elt" in e] == []
