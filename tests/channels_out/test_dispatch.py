"""The worker side: claim, retry, unknown outcomes, the sweeper (R1, R2, R3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_out import dispatch
from channels_out.backends import TransportError, locmem
from channels_out.ledger import available_credits, credits_release
from channels_out.models import CreditBalance, DeliveryEvent, LedgerEntry, OutboundMessage, Status
from channels_out.services import Step, message_mark_sent, message_resend, message_send
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def _queue(**kwargs) -> OutboundMessage:
    return message_send(
        steps=Step(channel="sms", text="Your room is ready"), guest=GuestFactory(), **kwargs
    )


def _run_until_settled(message: OutboundMessage, rounds: int = 10) -> OutboundMessage:
    """Deliver, and after each transient error pretend the backoff has passed."""
    for _ in range(rounds):
        dispatch.deliver([message.pk])
        message.refresh_from_db()
        if message.status != Status.QUEUED:
            break
        OutboundMessage.objects.filter(pk=message.pk).update(not_before=None)
    return message


def test_rate_limited_three_times_then_accepted_sends_once(accounts, top_up) -> None:
    top_up(5)
    message = _queue()
    locmem.script(*(TransportError("429 Too Many Requests", code="20429") for _ in range(3)))
    retries = dispatch.deliver([message.pk])
    assert set(retries) == {message.pk}
    assert retries[message.pk] >= 2.5  # backoff with jitter: 5 s × 0.5–1.0
    message = _run_until_settled(message)
    assert message.status == Status.SENT
    assert message.attempts == 4
    assert len(locmem.outbox) == 1
    assert available_credits() == Decimal("4")


def test_a_message_that_is_not_yet_due_is_not_sent(accounts, top_up) -> None:
    top_up(5)
    message = _queue()
    locmem.script(TransportError("busy"))
    dispatch.deliver([message.pk])
    dispatch.deliver([message.pk])  # its retry time has not come
    message.refresh_from_db()
    assert (message.status, message.attempts, len(locmem.outbox)) == (Status.QUEUED, 1, 0)


def test_it_gives_up_after_the_last_attempt_and_releases_the_credits(accounts, top_up) -> None:
    top_up(5)
    message = _queue()
    locmem.script(*(TransportError("connection refused") for _ in range(dispatch.MAX_ATTEMPTS)))
    message = _run_until_settled(message, rounds=dispatch.MAX_ATTEMPTS + 2)
    assert message.status == Status.FAILED
    assert "gave up after 6 attempts" in message.reason
    assert locmem.outbox == []
    assert available_credits() == Decimal("5")


def test_a_permanent_error_fails_with_the_provider_code_and_releases_credits(
    accounts, top_up
) -> None:
    top_up(5)
    message = _queue()
    locmem.script(
        TransportError("The 'To' number is not a valid phone number.", code="21211", permanent=True)
    )
    dispatch.deliver([message.pk])
    message.refresh_from_db()
    assert (message.status, message.provider_code, message.attempts) == (Status.FAILED, "21211", 1)
    assert available_credits() == Decimal("5")
    assert LedgerEntry.objects.filter(message=message, kind="release").count() == 1


def test_an_ambiguous_outcome_is_unknown_and_never_resent_automatically(accounts, top_up) -> None:
    top_up(5)
    message = _queue()
    locmem.script(TransportError("read timed out after the request was sent", ambiguous=True))
    dispatch.deliver([message.pk])
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        found = dispatch.sweep()
        dispatch.deliver(found["due"] + [message.pk])
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    assert message.pk not in found["due"]
    assert locmem.outbox == []
    # Its credits stay held until an operator decides.
    assert CreditBalance.objects.get().reserved == Decimal("1")


def test_an_operator_marks_an_unknown_outcome_sent(accounts, top_up, django_user_model) -> None:
    top_up(5)
    operator = django_user_model.objects.create_user("op")
    message = _queue()
    locmem.script(TransportError("timeout", ambiguous=True))
    dispatch.deliver([message.pk])
    message_mark_sent(message=message, user=operator)
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert DeliveryEvent.objects.filter(message=message, source="operator", by=operator).exists()
    balance = CreditBalance.objects.get()
    assert (balance.available, balance.reserved) == (Decimal("4"), Decimal("0"))


def test_an_operator_resends_an_unknown_outcome_once(accounts, top_up, django_user_model) -> None:
    top_up(5)
    operator = django_user_model.objects.create_user("op")
    message = _queue(dedupe_key="k1")
    locmem.script(TransportError("timeout", ambiguous=True))
    dispatch.deliver([message.pk])
    copy = message_resend(message=message, user=operator)
    with pytest.raises(ValidationError, match=rf"op already resent it as #{copy.pk} at \d\d:\d\d"):
        message_resend(message=message, user=operator)
    dispatch.deliver([copy.pk])
    message.refresh_from_db()
    copy.refresh_from_db()
    assert (message.status, copy.status, copy.resend_of_id, copy.dedupe_key) == (
        Status.FAILED,
        Status.SENT,
        message.pk,
        "k1|resend",
    )
    assert len(locmem.outbox) == 1
    assert available_credits() == Decimal("4")


def test_a_worker_cannot_claim_a_message_another_worker_holds(accounts, top_up) -> None:
    top_up(5)
    message = _queue()
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_at=timezone.now()
    )
    dispatch.deliver([message.pk])
    assert locmem.outbox == []


def test_the_sweeper_redispatches_a_forgotten_message_once(accounts, top_up) -> None:
    top_up(5)
    message = _queue()  # its task was lost (say, the broker restarted): nobody delivers it
    assert dispatch.sweep()["due"] == []  # too fresh: its own task may still come
    with time_machine.travel(timezone.now() + dispatch.REDISPATCH_AFTER + dt.timedelta(seconds=1)):
        due = dispatch.sweep()["due"]
        assert due == [message.pk]
        dispatch.deliver(due)
        dispatch.deliver(due)  # a second sweep's task racing the first
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(locmem.outbox) == 1


def test_a_send_stuck_after_a_worker_died_becomes_unknown(accounts, top_up) -> None:
    top_up(5)
    message = _queue()
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_at=timezone.now()
    )
    with time_machine.travel(
        timezone.now() + dispatch.STUCK_SENDING_AFTER + dt.timedelta(seconds=1)
    ):
        assert dispatch.sweep()["stuck"] == 1
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    assert "may or may not have gone out" in message.reason


def test_an_unexpected_backend_exception_is_an_unknown_outcome(accounts, top_up) -> None:
    top_up(5)
    message = _queue()
    locmem.script(ZeroDivisionError("bug"))  # type: ignore[arg-type]
    dispatch.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN


def test_a_batch_writes_its_outcomes_together_and_each_message_is_claimed_alone(
    accounts, top_up
) -> None:
    top_up(200)
    ids = [_queue().pk for _ in range(120)]
    with CaptureQueriesContext(connection) as queries:
        dispatch.deliver(ids)
    statements = [q["sql"] for q in queries.captured_queries]
    claims = [sql for sql in statements if sql.startswith("UPDATE") and "claimed_at" in sql]
    outcome_writes = [
        sql for sql in statements if sql.startswith("UPDATE") and "provider_message_id" in sql
    ]
    assert len(claims) == 120  # one conditional claim per send, before the provider is called
    assert len(outcome_writes) == 3  # 120 answers written 50 + 50 + 20
    assert OutboundMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == 120
    assert (
        len(
            set(
                OutboundMessage.objects.filter(pk__in=ids).values_list(
                    "provider_message_id", flat=True
                )
            )
        )
        == 120
    )
    assert LedgerEntry.objects.filter(kind="post", message_id__in=ids).count() == 120
    assert (
        DeliveryEvent.objects.filter(message_id__in=ids, status=Status.SENT, applied=True).count()
        == 120
    )
    assert available_credits() == Decimal("80")


def test_answers_already_received_are_written_when_the_worker_is_stopped_mid_batch(
    accounts, top_up
) -> None:
    top_up(10)
    ids = [_queue().pk for _ in range(5)]
    # The worker is told to stop while the provider has the fourth message (a warm shutdown,
    # not an error the backend could report): what it knows is still written.
    locmem.script(None, None, None, SystemExit(1))  # type: ignore[arg-type]
    with pytest.raises(SystemExit):
        dispatch.deliver(ids)
    statuses = list(
        OutboundMessage.objects.filter(pk__in=ids).order_by("pk").values_list("status", flat=True)
    )
    assert statuses == [Status.SENT] * 3 + [Status.SENDING, Status.QUEUED]
    assert LedgerEntry.objects.filter(kind="post", message_id__in=ids).count() == 3
    # The fourth may or may not have gone: the sweeper makes it unknown, never a second send.
    with time_machine.travel(
        timezone.now() + dispatch.STUCK_SENDING_AFTER + dt.timedelta(seconds=1)
    ):
        assert dispatch.sweep()["stuck"] == 1
    assert OutboundMessage.objects.get(pk=ids[3]).status == Status.UNKNOWN
    assert len(locmem.outbox) == 3


def test_an_answer_that_cannot_be_written_does_not_cost_the_rest_of_the_batch_theirs(
    accounts, top_up, monkeypatch, caplog
) -> None:
    top_up(10)
    ids = [_queue().pk for _ in range(4)]
    send = locmem.LocmemBackend.send

    def send_and_break_the_ledger(self, message):
        if message.pk == ids[1]:
            credits_release(
                message
            )  # a contradiction: its credits were given back while it went out
        return send(self, message)

    monkeypatch.setattr(locmem.LocmemBackend, "send", send_and_break_the_ledger)
    dispatch.deliver(ids)
    statuses = list(
        OutboundMessage.objects.filter(pk__in=ids).order_by("pk").values_list("status", flat=True)
    )
    assert statuses == [
        Status.SENT,
        Status.SENDING,
        Status.SENT,
        Status.SENT,
    ]  # the sweeper makes #2 unknown
    assert LedgerEntry.objects.filter(kind="post", message_id__in=ids).count() == 3
    assert f"message {ids[1]} could not be recorded" in caplog.text


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    import random

    rng = random.Random(7)
    first = [dispatch.backoff_seconds(1, rng=rng) for _ in range(50)]
    third = [dispatch.backoff_seconds(3, rng=rng) for _ in range(50)]
    huge = dispatch.backoff_seconds(30, rng=rng)
    assert min(first) >= 2.5 and max(first) <= 5
    assert min(third) >= 10 and max(third) <= 20
    assert len(set(first)) > 40  # jitter spreads retries out
    assert huge <= dispatch.BACKOFF_CAP_SECONDS
