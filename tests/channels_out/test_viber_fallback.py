"""Viber → SMS fallback (S3, R1, R3): an unreachable guest or a silent TTL gets exactly one SMS.

Viber goes through the real ``requests`` client to the loopback Vonage fake; its signed
receipts land in a loopback sink (our ``PUBLIC_BASE_URL`` here) and are relayed byte for
byte through Django's test client. The SMS leg uses the in-memory backend. On-commit
callbacks are captured, never run through Celery: the test calls the dispatcher itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.db.models import Sum
from django.test import Client

from channels_out import dispatch
from channels_out.backends import locmem
from channels_out.ledger import credits_add
from channels_out.models import (
    ChannelAccount,
    CreditBalance,
    LedgerEntry,
    MessagingPolicy,
    OutboundMessage,
    Status,
)
from channels_out.services import Step, message_send
from guests.models import Guest
from tests.factories import GuestFactory
from tests.fakes._server import CallbackRecord, WebhookSink, running_webhook_sink
from tests.fakes.vonage_messages import FakeVonageMessages, VonageOutcome, running_fake_vonage

pytestmark = pytest.mark.django_db

API_KEY = "abcd1234"
API_SECRET = "vonage-api-secret"
SIG_SECRET = "vonage-signature-secret-0123456789abcdef"
TTL = 60
PHONE = "+905321234567"


@pytest.fixture
def sink(settings) -> Iterator[WebhookSink]:
    with running_webhook_sink() as receiver:
        settings.PUBLIC_BASE_URL = receiver.base_url
        yield receiver


@pytest.fixture
def fake(sink: WebhookSink) -> Iterator[FakeVonageMessages]:
    with running_fake_vonage(API_KEY, API_SECRET, SIG_SECRET) as server:
        yield server


@pytest.fixture
def sms(no_quiet_hours: MessagingPolicy) -> ChannelAccount:
    return ChannelAccount.objects.create(
        channel="sms",
        backend="locmem",
        name="SMS",
        sender="LYKIA BAY",
        is_default=True,
        rate_per_second=1000,
    )


@pytest.fixture
def viber(fake: FakeVonageMessages, sms: ChannelAccount) -> ChannelAccount:
    credits_add(amount=Decimal(100), key="t")
    # Under the default threshold of 100 a send would also hand the low-balance mail to a
    # worker after commit; these tests count the delivery hand-off alone.
    MessagingPolicy.objects.filter(pk=MessagingPolicy.load().pk).update(low_balance_threshold=0)
    return ChannelAccount.objects.create(
        channel="viber",
        backend="vonage_viber",
        name="Viber",
        sender="16273",
        is_default=True,
        account_id=API_KEY,
        secret=API_SECRET,
        webhook_secret=SIG_SECRET,
        api_base_url=fake.base_url,
        timeout_seconds=2,
        ttl_seconds=TTL,
        fallback_account=sms,
        rate_per_second=1000,
    )


@pytest.fixture
def guest(db: None) -> Guest:
    return GuestFactory(phone=PHONE)


@pytest.fixture
def send(guest: Guest, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Queue one Viber message to the guest after commit, then deliver it as a worker would."""

    def run(text: str = "Welcome! Your room 214 is ready.") -> OutboundMessage:
        with django_capture_on_commit_callbacks() as callbacks:
            message = message_send(steps=Step(channel="viber", text=text), guest=guest)
        assert len(callbacks) == 1  # handed to a worker after commit; we are the worker
        dispatch.deliver([message.pk])
        message.refresh_from_db()
        return message

    return run


def relay(client: Client, record: CallbackRecord) -> int:
    """Post a signed webhook the fake sent through Django; return the answer's status code."""
    url = urlsplit(record.url)
    return client.post(
        f"{url.path}?{url.query}" if url.query else url.path,
        data=record.body,
        content_type="application/json",
        headers={"Authorization": record.headers["Authorization"]},
    ).status_code


def sms_fallbacks() -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(channel="sms").order_by("pk"))


def deliver_sms() -> None:
    dispatch.deliver(
        OutboundMessage.objects.filter(channel="sms", status=Status.QUEUED).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (VonageOutcome.not_viber_user(), "1300"),
        (VonageOutcome.no_suitable_device(), "1310"),
        (VonageOutcome.user_blocked(), "1330"),
        (VonageOutcome.ttl_expired(), "1360"),
    ],
    ids=["not-a-viber-user", "no-suitable-device", "blocked", "ttl-expired"],
)
def test_it_falls_back_to_one_sms_when_viber_cannot_reach_the_guest(
    viber, sms, fake, client, send, guest, outcome, code: str
) -> None:
    fake.script(outcome)
    message = send()
    assert message.status == Status.SENT
    receipts = fake.wait_for_callbacks(len(outcome.callbacks))
    for receipt in receipts:
        assert relay(client, receipt) == 204

    message.refresh_from_db()
    assert (message.status, message.provider_code) == (Status.FAILED, code)
    [fallback] = sms_fallbacks()
    assert fallback.fallback_for == message
    assert (fallback.status, fallback.account, fallback.to, fallback.body) == (
        Status.QUEUED,
        sms,
        PHONE,
        message.body,
    )
    deliver_sms()
    fallback.refresh_from_db()
    assert fallback.status == Status.SENT
    assert [(m.pk, m.to) for m in locmem.outbox] == [(fallback.pk, guest.phone)]

    # Vonage retries a webhook it thinks we missed: the same receipt again adds nothing.
    for receipt in receipts:
        assert relay(client, receipt) == 204
    deliver_sms()
    assert [m.pk for m in sms_fallbacks()] == [fallback.pk]
    assert len(locmem.outbox) == 1


def test_it_falls_back_to_sms_when_no_receipt_comes_within_the_ttl(
    viber, sms, fake, client, send
) -> None:
    message = send()  # the fake accepts and stays silent
    assert message.status == Status.SENT

    assert dispatch.sweep(now=message.sent_at + dt.timedelta(seconds=TTL - 1))["ttl_expired"] == 0
    assert sms_fallbacks() == []

    assert dispatch.sweep(now=message.sent_at + dt.timedelta(seconds=TTL + 1))["ttl_expired"] == 1
    [fallback] = sms_fallbacks()
    assert fallback.fallback_for == message
    assert dispatch.sweep(now=message.sent_at + dt.timedelta(seconds=TTL + 120))["ttl_expired"] == 0
    deliver_sms()
    assert [m.pk for m in locmem.outbox] == [fallback.pk]

    # Past its TTL the Viber message failed (Viber drops it), which released its credit.
    message.refresh_from_db()
    assert (message.status, message.provider_code) == (Status.FAILED, "ttl")
    # A receipt arrives after all: it is kept as an event, and adds nothing.
    assert relay(client, fake.callback(message.provider_message_id, "delivered")) == 204
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.events.filter(status=Status.DELIVERED, applied=False).exists()
    deliver_sms()
    assert [m.pk for m in sms_fallbacks()] == [fallback.pk]
    assert len(locmem.outbox) == 1
    # Only the SMS is paid for; nothing stays held.
    assert set(LedgerEntry.objects.filter(kind="post").values_list("message_id", flat=True)) == {
        fallback.pk
    }
    assert CreditBalance.objects.get().reserved == 0


def test_a_late_rejection_after_the_ttl_fallback_adds_no_second_sms(
    viber, fake, client, send
) -> None:
    message = send()
    dispatch.sweep(now=message.sent_at + dt.timedelta(seconds=TTL + 1))
    [fallback] = sms_fallbacks()
    assert relay(client, fake.callback(message.provider_message_id, "rejected", 1360)) == 204
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert [m.pk for m in sms_fallbacks()] == [fallback.pk]


def test_a_viber_message_delivered_within_the_ttl_sends_no_sms(viber, fake, client, send) -> None:
    fake.script(VonageOutcome.delivered())
    message = send()
    for receipt in fake.wait_for_callbacks(2):
        assert relay(client, receipt) == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED

    assert dispatch.sweep(now=message.sent_at + dt.timedelta(seconds=10 * TTL))["ttl_expired"] == 0
    assert sms_fallbacks() == []
    assert locmem.outbox == []


def test_the_sms_reserves_and_posts_its_own_credits_and_the_balance_never_goes_negative(
    viber, fake, client, send
) -> None:
    fake.script(VonageOutcome.not_viber_user())
    message = send()
    relay(client, fake.wait_for_callbacks(1)[0])
    [fallback] = sms_fallbacks()
    deliver_sms()

    kinds = list(
        LedgerEntry.objects.filter(message=fallback).order_by("pk").values_list("kind", "amount")
    )
    assert kinds == [("reserve", Decimal(1)), ("post", Decimal(1))]
    assert not LedgerEntry.objects.filter(available_after__lt=0).exists()
    balance = CreditBalance.objects.get()
    assert balance.available >= 0 and balance.reserved == 0
    assert message.pk != fallback.pk


def test_a_viber_message_to_a_non_user_releases_its_credits(viber, fake, client, send) -> None:
    fake.script(VonageOutcome.not_viber_user())
    message = send()
    relay(client, fake.wait_for_callbacks(1)[0])
    deliver_sms()

    assert list(
        LedgerEntry.objects.filter(message=message).order_by("pk").values_list("kind", flat=True)
    ) == [
        "reserve",
        "release",
    ]
    posted = LedgerEntry.objects.filter(kind="post").aggregate(total=Sum("amount"))["total"]
    sent = OutboundMessage.objects.filter(status__in=[Status.SENT, Status.DELIVERED]).aggregate(
        total=Sum("credits")
    )
    assert posted == sent["total"] == Decimal(1)
    assert CreditBalance.objects.get().available == Decimal(99)


def test_with_viber_first_off_the_message_goes_straight_to_sms(viber, sms, fake, send) -> None:
    house = MessagingPolicy.load()
    house.viber_first = False
    house.save()
    message = send()
    assert (message.channel, message.account, message.status) == ("sms", sms, Status.SENT)
    assert message.fallback_plan == []
    assert not OutboundMessage.objects.filter(channel="viber").exists()
    assert fake.requests == []
    assert [m.pk for m in locmem.outbox] == [message.pk]
