"""Secrets in message bodies: sent in full, stored masked, never shown, exported or logged.

A portal login SMS goes through the real twilio library to the local fake Twilio API; the
fake gets the code and the sign-in link, while the send log — and with it every staff
screen, the CSV export, the admin and the logs — holds only ``••••••``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_out.backends import TransportError, locmem
from channels_out.dispatch import deliver, sweep
from channels_out.ledger import credits_add
from channels_out.models import MessagingPolicy, OutboundMessage, SkipReason, Status
from channels_out.services import Step, message_send
from channels_out.services.status import message_apply_status, message_resend
from channels_out.text import MASK, redact, secret_forms, unsealed
from tests.factories import GuestFactory, ReservationFactory
from tests.fakes.twilio_api import FakeTwilio

from .test_backend_twilio import fake_twilio, twilio_account

pytestmark = pytest.mark.django_db
PHONE = "+905321234567"
CODE = "482913"
TOKEN = "eyJnIjo0Mn0:1vAbCd:SomeSignatureThatIsLongEnough"


@pytest.fixture
def fake(settings: Any) -> Iterator[FakeTwilio]:
    with fake_twilio(settings) as server:
        yield server


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def _staff_pages(message: OutboundMessage) -> dict[str, str]:
    pages = {
        "sent messages": reverse("channels_out:message-list"),
        "message rows": reverse("channels_out:message-rows"),
        "message detail": reverse("channels_out:message-detail", args=[message.pk]),
        "CSV export": reverse("channels_out:message-export"),
        "guest page": reverse("guests:guest-detail", args=[message.guest_id]),
        "guest history": reverse("guests:guest-history", args=[message.guest_id]),
        "admin log": reverse("admin:channels_out_outboundmessage_changelist"),
        "admin message": reverse("admin:channels_out_outboundmessage_change", args=[message.pk]),
        "admin events": reverse("admin:channels_out_deliveryevent_changelist"),
    }
    if message.reservation_id:
        pages["stay history"] = reverse(
            "guests:reservation-messages", args=[message.reservation_id]
        )
        pages["stay page"] = reverse("guests:reservation-detail", args=[message.reservation_id])
    return pages


def _read(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


class TestTheMaskingRule:
    def test_every_form_of_a_secret_is_masked(self) -> None:
        text = f"Code {CODE}; link https://h.example/l/{TOKEN}/ or %3A-quoted: {TOKEN.replace(':', '%3A')}"
        masked = redact(text, [CODE, TOKEN])
        assert CODE not in masked and TOKEN not in masked
        assert masked == f"Code {MASK}; link https://h.example/l/{MASK}/ or %3A-quoted: {MASK}"

    def test_a_secret_too_short_to_mask_safely_is_refused(self) -> None:
        with pytest.raises(ValueError):
            secret_forms(["12"])


class TestAPortalLoginCode:
    @pytest.fixture
    def sms(self, fake: FakeTwilio, no_quiet_hours: MessagingPolicy) -> Any:
        credits_add(amount=Decimal(100), key="test")
        return twilio_account(fake, "sms")

    def test_it_reaches_the_provider_in_full_and_staff_see_only_the_mask(
        self, sms: Any, fake: FakeTwilio, staff: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        guest = GuestFactory(phone=PHONE, first_name="Oliver")
        arrival = timezone.localdate() + dt.timedelta(days=3)
        ReservationFactory(booker=guest, arrival=arrival, departure=arrival + dt.timedelta(days=2))
        assert Client().post(reverse("portal:login"), {"phone": PHONE}).status_code == 302
        message = OutboundMessage.objects.get(to=PHONE)
        deliver([message.pk])

        [resource] = fake.messages.values()
        sent = resource["body"]
        code = re.search(r"\b(\d{6})\b", sent).group(1)  # type: ignore[union-attr]
        link = re.search(r"https?://\S+/guest/login/link/(\S+)/", sent)
        assert link, sent
        token = link.group(1)

        message.refresh_from_db()
        assert message.status == Status.SENT
        assert code not in message.body and token not in message.body
        assert message.body.startswith(f"{MASK} is your")
        assert f"/guest/login/link/{MASK}/" in message.body
        assert message.sealed == ""  # sent, nothing left to send: the full text is gone

        for name, url in _staff_pages(message).items():
            page = _read(staff, url)
            assert code not in page and token not in page, name
        assert MASK in _read(staff, reverse("channels_out:message-detail", args=[message.pk]))
        assert MASK in _read(staff, reverse("channels_out:message-export"))
        assert code not in caplog.text and token not in caplog.text


class TestEveryPathSendsTheFullText:
    def test_the_parts_are_counted_on_the_text_that_goes(self, accounts: Any, top_up: Any) -> None:
        top_up(10)
        message = message_send(
            steps=Step(channel="sms", text=f"Your code is {CODE}", to=PHONE), secrets=[CODE]
        )
        assert message.body == f"Your code is {MASK}"
        assert (message.encoding, message.segments) == ("GSM-7", 1)  # not UCS-2 for the mask

    def test_a_retry_after_a_transient_error_sends_the_full_text(
        self, accounts: Any, top_up: Any
    ) -> None:
        top_up(10)
        message = message_send(
            steps=Step(channel="sms", text=f"Your code is {CODE}", to=PHONE), secrets=[CODE]
        )
        locmem.script(TransportError("busy", code="429"))
        deliver([message.pk])
        message.refresh_from_db()
        assert message.status == Status.QUEUED and message.sealed
        with connection.cursor() as cursor:  # at rest the full text is encrypted
            cursor.execute(
                f"SELECT sealed FROM {OutboundMessage._meta.db_table} WHERE id = %s", [message.pk]
            )
            [raw] = cursor.fetchone()
        assert raw and CODE not in raw
        OutboundMessage.objects.filter(pk=message.pk).update(not_before=None)
        deliver([message.pk])
        assert [m.body for m in locmem.outbox] == [f"Your code is {CODE}"]
        message.refresh_from_db()
        assert (message.status, message.body, message.sealed) == (
            Status.SENT,
            f"Your code is {MASK}",
            "",
        )

    def test_the_sms_fallback_of_a_viber_message_carries_the_real_text(
        self, accounts: Any, top_up: Any
    ) -> None:
        top_up(10)
        guest = GuestFactory(phone=PHONE)
        viber = message_send(
            steps=Step(channel="viber", text=f"Sign in: https://h.example/l/{TOKEN}/"),
            guest=guest,
            secrets=[TOKEN],
        )
        stored_plan = json.dumps(viber.fallback_plan, ensure_ascii=False)
        assert TOKEN not in stored_plan and MASK in stored_plan
        locmem.script(TransportError("not a Viber user", code="1300", permanent=True))
        deliver([viber.pk])
        sms = OutboundMessage.objects.get(fallback_for=viber)
        assert sms.body == f"Sign in: https://h.example/l/{MASK}/"
        deliver([sms.pk])
        assert [m.body for m in locmem.outbox] == [f"Sign in: https://h.example/l/{TOKEN}/"]
        viber.refresh_from_db()
        sms.refresh_from_db()
        assert (viber.sealed, sms.sealed) == ("", "")

    def test_an_operators_resend_sends_the_full_text(
        self, accounts: Any, top_up: Any, staff: Client
    ) -> None:
        top_up(10)
        message = message_send(
            steps=Step(channel="sms", text=f"Your code is {CODE}", to=PHONE), secrets=[CODE]
        )
        locmem.script(TransportError("timeout", code="timeout", ambiguous=True))
        deliver([message.pk])
        message.refresh_from_db()
        assert message.status == Status.UNKNOWN and message.sealed  # kept for a resend
        copy = message_resend(message=message, user=None)
        assert copy.body == f"Your code is {MASK}"
        deliver([copy.pk])
        assert [m.body for m in locmem.outbox] == [f"Your code is {CODE}"]

    def test_a_message_waiting_for_credits_keeps_its_text_and_one_that_failed_loses_it(
        self, accounts: Any, top_up: Any
    ) -> None:
        waiting = message_send(
            steps=Step(channel="sms", text=f"Your code is {CODE}", to=PHONE), secrets=[CODE]
        )
        assert waiting.skip_reason == SkipReason.NO_CREDITS
        top_up(10)
        failing = message_send(
            steps=Step(channel="sms", text=f"Code {CODE}", to="+905321234568"), secrets=[CODE]
        )
        message_apply_status(failing, Status.FAILED, source="test")
        sweep()
        assert OutboundMessage.objects.get(pk=waiting.pk).sealed
        assert OutboundMessage.objects.get(pk=failing.pk).sealed == ""
        assert unsealed(OutboundMessage.objects.get(pk=waiting.pk)).body == f"Your code is {CODE}"

    def test_a_marketing_mails_unsubscribe_header_is_masked_in_the_log(self, accounts: Any) -> None:
        from guests.services import guest_record_consent

        guest = GuestFactory(email="ayse@example.com")
        guest_record_consent(
            guest=guest, purpose="marketing", channel="email", granted=True, source="staff"
        )
        message = message_send(
            steps=Step(channel="email", subject="Offer", text="Hello"),
            guest=guest,
            purpose="marketing",
        )
        assert message.status == Status.QUEUED, message.reason
        assert message.headers["List-Unsubscribe"] == MASK
        deliver([message.pk])
        [mail] = locmem.outbox
        assert "/guest/unsubscribe/" in mail.headers["List-Unsubscribe"]
