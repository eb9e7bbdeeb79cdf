"""Credits never go negative; debits equal sent messages; a top-up resumes exactly the held ones (K2–K5, R3)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.utils import IntegrityError

from channels_out import dispatch
from channels_out.backends import locmem
from channels_out.ledger import (
    InsufficientCredits,
    LedgerConflict,
    available_credits,
    credits_add,
    credits_post,
    credits_release,
    credits_reserve,
)
from channels_out.models import (
    CreditBalance,
    CreditOrder,
    LedgerEntry,
    OutboundMessage,
    SkipReason,
    Status,
)
from channels_out.services import Step, message_send
from channels_out.services.credits import (
    credit_order_cancel,
    credit_order_create,
    credit_order_mark_paid,
    credits_adjust,
)
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def _ledger_matches_balance() -> None:
    """The balance row is exactly the sum of the ledger."""
    balance = CreditBalance.objects.get()
    entries = LedgerEntry.objects.all()
    assert balance.available == sum((e.available_delta for e in entries), Decimal(0))
    assert balance.reserved == sum((e.reserved_delta for e in entries), Decimal(0))


def test_credits_running_out_at_37_of_100_then_a_top_up_sends_exactly_the_63(
    accounts, top_up, django_capture_on_commit_callbacks, django_user_model
) -> None:
    manager = django_user_model.objects.create_user("manager")
    top_up(37)
    guests = GuestFactory.create_batch(100)
    with django_capture_on_commit_callbacks(execute=True):
        for i, guest in enumerate(guests):
            message_send(
                steps=Step(channel="sms", text="Breakfast is served until 10:30."),
                guest=guest,
                dedupe_key=f"notice:{i}",
            )
    statuses = list(OutboundMessage.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [Status.SENT] * 37 + [Status.SKIPPED] * 63
    assert set(
        OutboundMessage.objects.filter(status=Status.SKIPPED).values_list("skip_reason", flat=True)
    ) == {SkipReason.NO_CREDITS}
    assert available_credits() == Decimal("0")
    assert len(locmem.outbox) == 37

    order = credit_order_create(credits=100, user=manager)
    with django_capture_on_commit_callbacks(execute=True):
        credit_order_mark_paid(order=order, user=manager)
    with django_capture_on_commit_callbacks(execute=True):
        credit_order_mark_paid(order=order, user=manager)  # a double click adds nothing

    assert OutboundMessage.objects.filter(status=Status.SENT).count() == 100
    assert OutboundMessage.objects.count() == 100
    assert len(locmem.outbox) == 100
    assert len({m.pk for m in locmem.outbox}) == 100  # nobody got two
    assert available_credits() == Decimal("37")
    assert LedgerEntry.objects.filter(kind="post").count() == 100
    _ledger_matches_balance()


def test_the_balance_row_refuses_to_go_negative_even_when_asked_directly() -> None:
    CreditBalance.objects.get_or_create(pk=1)
    with pytest.raises(IntegrityError):
        CreditBalance.objects.filter(pk=1).update(available=Decimal("-1"))


def test_each_movement_happens_once_per_key(accounts, top_up) -> None:
    top_up(10)
    message = message_send(steps=Step(channel="sms", text="x"), guest=GuestFactory())
    assert (
        credits_reserve(message).pk == LedgerEntry.objects.get(kind="reserve").pk
    )  # already reserved at queueing
    credits_post(message)
    credits_post(message)
    assert LedgerEntry.objects.filter(kind="post").count() == 1
    assert credits_release(message) is None  # posted credits are not given back
    _ledger_matches_balance()
    assert available_credits() == Decimal("9")


def test_post_after_release_is_refused(accounts, top_up) -> None:
    top_up(10)
    message = message_send(steps=Step(channel="sms", text="x"), guest=GuestFactory())
    credits_release(message)
    with pytest.raises(LedgerConflict):
        credits_post(message)
    assert available_credits() == Decimal("10")
    _ledger_matches_balance()


def test_insufficient_credits_says_cost_and_balance() -> None:
    credits_add(amount=Decimal("0.4"), key="k")
    message = OutboundMessage(pk=999, credits=Decimal("30.6"))
    with pytest.raises(InsufficientCredits, match=r"cost 30\.60 credits, balance 0\.40"):
        credits_reserve(message)


class TestOrders:
    def test_an_order_is_invoiced_at_ten_credits_per_euro(self, django_user_model) -> None:
        order = credit_order_create(credits=500)
        assert (order.amount, order.status) == (Decimal("50.00"), CreditOrder.Status.INVOICED)
        assert order.invoice_number.startswith("CR-")
        assert available_credits() == Decimal("0")  # nothing until it is paid

    def test_invoice_numbers_follow_each_other(self) -> None:
        first, second = credit_order_create(credits=10), credit_order_create(credits=10)
        assert int(second.invoice_number[-5:]) == int(first.invoice_number[-5:]) + 1

    @pytest.mark.parametrize("credits", [0, -5, "1.5", "lots"])
    def test_nonsense_quantities_are_refused(self, credits) -> None:
        with pytest.raises(ValidationError) as caught:
            credit_order_create(credits=credits)
        assert "credits" in caught.value.message_dict
        assert not CreditOrder.objects.exists()

    def test_a_cancelled_order_cannot_be_paid(self) -> None:
        order = credit_order_create(credits=10)
        credit_order_cancel(order=order)
        with pytest.raises(ValidationError, match="cancelled"):
            credit_order_mark_paid(order=order)
        assert available_credits() == Decimal("0")

    def test_who_cancelled_an_order_and_when_is_kept_and_a_second_cancel_changes_nothing(
        self, django_user_model
    ) -> None:
        manager, other = (
            django_user_model.objects.create(username="mgr"),
            django_user_model.objects.create(username="x"),
        )
        order = credit_order_create(credits=10)
        credit_order_cancel(order=order, user=manager)
        order.refresh_from_db()
        assert (order.status, order.cancelled_by, order.cancelled_at is not None) == (
            CreditOrder.Status.CANCELLED,
            manager,
            True,
        )
        first_at = order.cancelled_at
        credit_order_cancel(order=order, user=other)
        order.refresh_from_db()
        assert (order.cancelled_by, order.cancelled_at) == (manager, first_at)

    def test_a_paid_order_cannot_be_cancelled(self) -> None:
        order = credit_order_create(credits=10)
        credit_order_mark_paid(order=order)
        with pytest.raises(ValidationError, match="is paid"):
            credit_order_cancel(order=order)


class TestAdjustments:
    def test_a_removal_beyond_the_balance_is_refused(self) -> None:
        credits_add(amount=Decimal(5), key="k")
        with pytest.raises(ValidationError, match="cost 6 credits, balance 5"):
            credits_adjust(amount=Decimal(-6), note="correction", key="adj-1")
        assert available_credits() == Decimal("5")

    def test_an_adjustment_needs_a_reason(self) -> None:
        with pytest.raises(ValidationError):
            credits_adjust(amount=Decimal(5), note=" ", key="adj-2")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_overdraw_the_balance(accounts) -> None:
    """Eight threads reserve 1 credit each for 40 messages against a balance of 25."""
    credits_add(amount=Decimal(25), key="start")
    guest = GuestFactory()
    messages = [
        OutboundMessage.objects.create(
            dedupe_key=f"race:{i}",
            channel="sms",
            purpose="service",
            account=accounts["sms"],
            backend="locmem",
            to=guest.phone,
            guest=guest,
            credits=Decimal(1),
        )
        for i in range(40)
    ]
    results: list[str] = []
    lock = threading.Lock()
    chunks = [messages[i::8] for i in range(8)]

    def worker(chunk: list[OutboundMessage]) -> None:
        try:
            for message in chunk:
                try:
                    credits_reserve(message)
                    outcome = "ok"
                except InsufficientCredits:
                    outcome = "short"
                with lock:
                    results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 25
    assert results.count("short") == 15
    balance = CreditBalance.objects.get()
    assert (balance.available, balance.reserved) == (Decimal(0), Decimal(25))
    _ledger_matches_balance()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_the_same_messages_send_each_once(accounts) -> None:
    credits_add(amount=Decimal(50), key="start")
    guests = GuestFactory.create_batch(30)
    ids = [
        message_send(steps=Step(channel="sms", text="x"), guest=g, dedupe_key=f"r:{g.pk}").pk
        for g in guests
    ]
    locmem.reset()  # on-commit dispatch ran inline; start the race from queued rows
    OutboundMessage.objects.update(status=Status.QUEUED)
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            dispatch.deliver(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent_ids = [m.pk for m in locmem.outbox]
    assert sorted(sent_ids) == sorted(ids)  # every message once, none twice
