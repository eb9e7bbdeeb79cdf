"""Statuses only move forward; every receipt is kept as an event (S5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from channels_out import dispatch
from channels_out.ledger import available_credits
from channels_out.models import DeliveryEvent, LedgerEntry, OutboundMessage, Status
from channels_out.services import Step, message_apply_status, message_send
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(accounts, top_up) -> OutboundMessage:
    top_up(5)
    message = message_send(steps=Step(channel="sms", text="See you soon"), guest=GuestFactory())
    dispatch.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def test_a_late_sent_never_overwrites_delivered(sent: OutboundMessage) -> None:
    assert message_apply_status(sent, Status.DELIVERED, source="webhook") is True
    assert message_apply_status(sent, Status.SENT, source="webhook") is False
    sent.refresh_from_db()
    assert sent.status == Status.DELIVERED
    assert sent.delivered_at is not None
    late = DeliveryEvent.objects.filter(message=sent, status=Status.SENT, source="webhook").get()
    assert late.applied is False


def test_the_same_receipt_twice_changes_once(sent: OutboundMessage) -> None:
    message_apply_status(sent, Status.DELIVERED, source="webhook")
    message_apply_status(sent, Status.DELIVERED, source="webhook")
    assert (
        DeliveryEvent.objects.filter(message=sent, status=Status.DELIVERED, applied=True).count()
        == 1
    )
    assert DeliveryEvent.objects.filter(message=sent, status=Status.DELIVERED).count() == 2


def test_final_statuses_do_not_replace_each_other(sent: OutboundMessage) -> None:
    message_apply_status(sent, Status.UNDELIVERED, source="webhook", code="30003")
    assert message_apply_status(sent, Status.DELIVERED, source="webhook") is False
    sent.refresh_from_db()
    assert (sent.status, sent.provider_code) == (Status.UNDELIVERED, "30003")


def test_a_failure_after_acceptance_keeps_the_debit(sent: OutboundMessage) -> None:
    """The provider charged for the attempt: debits equal accepted messages."""
    message_apply_status(sent, Status.FAILED, source="webhook", code="30008")
    assert LedgerEntry.objects.filter(message=sent).order_by("pk").values_list("kind", flat=True)[
        ::1
    ] == ["reserve", "post"]
    assert available_credits() == Decimal("4")


def test_a_receipt_before_our_own_sent_write_still_counts(accounts, top_up) -> None:
    """A fast provider may report delivery before the worker recorded "sent"."""
    top_up(5)
    message = message_send(steps=Step(channel="sms", text="x"), guest=GuestFactory())
    OutboundMessage.objects.filter(pk=message.pk).update(status=Status.SENDING)
    message_apply_status(message, Status.DELIVERED, source="webhook")
    message_apply_status(message, Status.SENT, source="dispatch", provider_message_id="SM1")
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert message.sent_at is not None
    assert LedgerEntry.objects.filter(message=message, kind="post").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_receipt_racing_the_workers_batch_write_is_applied_once_in_rank_order(
    accounts, top_up, monkeypatch
) -> None:
    """The worker writes "sent" for a batch while the provider's "delivered" arrives for one of them."""
    import threading

    from django.db import connection

    from channels_out.services import StatusChange, message_apply_statuses
    from channels_out.tasks import deliver_messages

    top_up(20)
    monkeypatch.setattr(
        deliver_messages, "apply_async", lambda *a, **k: None
    )  # this test plays the worker
    messages = [
        message_send(steps=Step(channel="sms", text="Hi"), guest=GuestFactory()) for _ in range(10)
    ]
    OutboundMessage.objects.filter(pk__in=[m.pk for m in messages]).update(status=Status.SENDING)
    raced = messages[4]
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        message_apply_statuses(
            [StatusChange(m, Status.SENT, provider_message_id=f"SM{m.pk}") for m in messages],
            source="dispatch",
        )
        connection.close()

    def webhook() -> None:
        barrier.wait()
        message_apply_status(
            OutboundMessage.objects.get(pk=raced.pk), Status.DELIVERED, source="webhook"
        )
        connection.close()

    threads = [threading.Thread(target=worker), threading.Thread(target=webhook)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = dict(OutboundMessage.objects.values_list("pk", "status"))
    assert statuses.pop(raced.pk) == Status.DELIVERED  # whichever came first, "delivered" wins
    assert set(statuses.values()) == {Status.SENT}
    assert OutboundMessage.objects.get(pk=raced.pk).sent_at is not None
    assert (
        LedgerEntry.objects.filter(kind="post").count() == 10
    )  # one debit each, the raced one too
    assert available_credits() == Decimal("10")
    assert (
        DeliveryEvent.objects.filter(
            message=raced, status__in=[Status.SENT, Status.DELIVERED]
        ).count()
        == 2
    )
