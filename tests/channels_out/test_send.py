"""Queueing one message: validation, dedupe, skip reasons, credits (S5, S7, R1, R4)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from channels_out.backends import locmem
from channels_out.ledger import available_credits
from channels_out.models import (
    DeliveryEvent,
    LedgerEntry,
    MessagingPolicy,
    OutboundMessage,
    SkipReason,
    Status,
)
from channels_out.services import Step, message_send
from guests.services import guest_greylist, guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_low_balance_alert(db: None) -> None:
    """Small top-ups sit under the default low-balance threshold (100), so each send would also
    hand the managers' alert to the broker after commit; these tests count their own hand-offs
    (the alert is tested in test_credit_alerts.py)."""
    MessagingPolicy.objects.filter(pk=MessagingPolicy.load().pk).update(low_balance_threshold=0)


def _opt_in(guest, channel: str = "sms") -> None:
    guest_record_consent(
        guest=guest, purpose="marketing", channel=channel, granted=True, source="staff"
    )


def test_a_message_is_logged_priced_reserved_and_sent_after_commit(
    accounts, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    guest = GuestFactory(phone="+905321234567")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = message_send(steps=Step(channel="sms", text="Welcome to Lykia Bay!"), guest=guest)
        assert locmem.outbox == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert (message.to, message.country, message.segments, message.encoding) == (
        "+905321234567",
        "TR",
        1,
        "GSM-7",
    )
    assert message.credits == Decimal("1")
    assert [m.pk for m in locmem.outbox] == [message.pk]
    assert available_credits() == Decimal("9")
    assert list(
        LedgerEntry.objects.filter(message=message).values_list("kind", flat=True).order_by("pk")
    ) == ["reserve", "post"]


def test_a_rolled_back_cause_sends_nothing(
    accounts, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    guest = GuestFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        message_send(steps=Step(channel="sms", text="Hi"), guest=guest)
        raise RuntimeError("the check-in failed")
    assert callbacks == []
    assert not OutboundMessage.objects.exists()
    assert locmem.outbox == []
    assert available_credits() == Decimal("10")


def test_the_same_dedupe_key_never_makes_a_second_message(
    accounts, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    guest = GuestFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = message_send(
            steps=Step(channel="sms", text="Hi"),
            guest=guest,
            dedupe_key="campaign:1|guest:1|2026-11-24|0",
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = message_send(
            steps=Step(channel="sms", text="Hi again"),
            guest=guest,
            dedupe_key="campaign:1|guest:1|2026-11-24|0",
        )
    assert again.pk == first.pk
    assert OutboundMessage.objects.count() == 1
    assert len(locmem.outbox) == 1
    assert available_credits() == Decimal("9")


@pytest.mark.parametrize(
    ("step", "field", "words"),
    [
        (Step(channel="pigeon", text="x"), "channel", "Unknown channel"),
        (Step(channel="sms", text=""), "text", "needs a text"),
        (
            Step(channel="sms", text="x" * 1601),
            "text",
            "An SMS message is at most 1600 characters; this one has 1601",
        ),
        (
            Step(channel="email", subject="Hi\nBcc: all@example.com", text="x"),
            "subject",
            "line break",
        ),
        (Step(channel="email", subject="", text="x"), "subject", "needs a subject"),
        (Step(channel="whatsapp"), "text", "approved template or a text"),
    ],
)
def test_input_that_cannot_be_sent_is_refused_and_writes_nothing(
    accounts, top_up, step: Step, field: str, words: str
) -> None:
    top_up(10)
    with pytest.raises(ValidationError) as caught:
        message_send(steps=step, guest=GuestFactory())
    assert field in caught.value.message_dict
    assert words in " ".join(caught.value.message_dict[field])
    assert not OutboundMessage.objects.exists()
    assert available_credits() == Decimal("10")


def test_an_account_of_another_channel_is_refused(accounts) -> None:
    with pytest.raises(ValidationError, match="“Mail” is an E-mail account, not an SMS account"):
        message_send(
            steps=Step(channel="sms", account=accounts["email"], text="x"), guest=GuestFactory()
        )


def test_header_injection_in_extra_headers_is_refused(accounts) -> None:
    with pytest.raises(ValidationError, match="line break"):
        message_send(
            steps=Step(channel="email", subject="Hi", text="x"),
            guest=GuestFactory(),
            headers={"List-Unsubscribe": "<https://x>\r\nBcc: everyone@example.com"},
        )
    assert not OutboundMessage.objects.exists()


class TestSkips:
    """A message that may not go is logged as skipped with its reason, never dropped."""

    def _send(self, guest, **kwargs):
        return message_send(
            steps=Step(
                channel=kwargs.pop("channel", "sms"), text="Our spring offer", subject="Offer"
            ),
            guest=guest,
            **kwargs,
        )

    def test_marketing_without_consent(self, accounts, top_up) -> None:
        top_up(10)
        message = self._send(GuestFactory(), purpose="marketing")
        assert (message.status, message.skip_reason) == (Status.SKIPPED, SkipReason.NO_CONSENT)
        assert available_credits() == Decimal("10")

    def test_greylisted_guest_gets_no_marketing_but_gets_service(self, accounts, top_up) -> None:
        top_up(10)
        guest = GuestFactory()
        _opt_in(guest)
        guest_greylist(guest=guest, reason="chargeback")
        assert self._send(guest, purpose="marketing").skip_reason == SkipReason.GREYLISTED
        assert self._send(guest, purpose="service").status == Status.QUEUED

    def test_invalid_number(self, accounts, top_up) -> None:
        top_up(10)
        guest = GuestFactory(phone="555-CALL-ME", phone_valid=False)
        message = self._send(guest)
        assert message.skip_reason == SkipReason.INVALID_NUMBER
        assert "555-CALL-ME" in message.reason

    def test_a_landline_cannot_take_an_sms(self, accounts, top_up) -> None:
        top_up(10)
        message = self._send(GuestFactory(phone="+902123456789"))
        assert message.skip_reason == SkipReason.INVALID_NUMBER
        assert "landline" in message.reason

    def test_no_address(self, accounts, top_up) -> None:
        top_up(10)
        message = self._send(GuestFactory(email=""), channel="email")
        assert message.skip_reason == SkipReason.NO_ADDRESS

    def test_frequency_cap_for_marketing(self, accounts, top_up) -> None:
        top_up(10)
        policy = MessagingPolicy.load()
        policy.frequency_cap_count, policy.frequency_cap_days = 2, 7
        policy.save()
        guest = GuestFactory()
        _opt_in(guest)
        results = [self._send(guest, purpose="marketing") for _ in range(3)]
        assert [m.status for m in results] == [Status.QUEUED, Status.QUEUED, Status.SKIPPED]
        assert results[2].skip_reason == SkipReason.FREQUENCY_CAP
        assert (
            self._send(guest, purpose="service").status == Status.QUEUED
        )  # service is never capped

    def test_no_credits(self, accounts) -> None:
        message = self._send(GuestFactory())
        assert message.skip_reason == SkipReason.NO_CREDITS
        # The label says "No credits"; the detail says by how much, in the singular for one.
        assert message.reason == "cost 1 credit, balance 0"
        assert message.skip_text == "No credits: cost 1 credit, balance 0"

    def test_each_skip_leaves_an_event_with_its_reason(self, accounts) -> None:
        message = self._send(GuestFactory(), purpose="marketing")
        event = DeliveryEvent.objects.get(message=message)
        assert (event.status, event.code) == (Status.SKIPPED, SkipReason.NO_CONSENT)


def test_email_is_free_and_needs_no_credits(accounts, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            steps=Step(channel="email", subject="Your stay", html="<p>Hello</p>"),
            guest=GuestFactory(),
        )
    message.refresh_from_db()
    assert (message.status, message.credits) == (Status.SENT, Decimal("0"))


def test_a_cyrillic_sms_is_priced_per_ucs2_part(accounts, top_up) -> None:
    top_up(10)
    text = "Добро пожаловать в отель! " * 3  # 78 characters: two UCS-2 parts
    message = message_send(
        steps=Step(channel="sms", text=text), guest=GuestFactory(phone="+79123456789")
    )
    assert (message.encoding, message.segments, message.credits, message.country) == (
        "UCS-2",
        2,
        Decimal("2"),
        "RU",
    )


def test_an_opt_out_after_queueing_is_honoured_at_sending(accounts, top_up, deliver_queued) -> None:
    top_up(10)
    guest = GuestFactory()
    _opt_in(guest)
    message = message_send(
        steps=Step(channel="sms", text="Offer"), guest=guest, purpose="marketing"
    )
    guest_record_consent(
        guest=guest, purpose="marketing", channel="sms", granted=False, source="inbound_keyword"
    )
    deliver_queued()
    message.refresh_from_db()
    assert (message.status, message.skip_reason) == (Status.SKIPPED, SkipReason.OPTED_OUT)
    assert locmem.outbox == []
    assert available_credits() == Decimal("10")
