"""Two operators deciding one unknown outcome at the same moment: exactly one decision wins (R2, R3).

"Mark sent" debits the message; "resend" fails it and queues a copy. Both at once would debit
the message *and* send the guest a copy. The decision locks the row and re-checks its status,
so the second operator is refused and told what the first one did.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from channels_out.backends import TransportError, locmem
from channels_out.ledger import available_credits
from channels_out.models import LedgerEntry, OutboundMessage, Status
from channels_out.services import Step, message_mark_sent, message_resend, message_send
from tests.factories import GuestFactory

RACES = 20


def _unknown(key: str) -> OutboundMessage:
    """A message whose provider call timed out after leaving: its outcome is unknown."""
    locmem.script(TransportError("timeout", ambiguous=True))
    message = message_send(
        steps=Step(channel="sms", text="Your room is ready"), guest=GuestFactory(), dedupe_key=key
    )  # sent on commit (tasks run inline): the scripted timeout makes it unknown
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    return message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_mark_sent_and_resend_at_the_same_moment_never_both_happen(
    accounts, top_up, django_user_model
) -> None:
    top_up(100)
    ayse = django_user_model.objects.create_user("ayse", first_name="Ayşe")
    mehmet = django_user_model.objects.create_user("mehmet", first_name="Mehmet")
    messages = [_unknown(f"race:{i}") for i in range(RACES)]
    locmem.reset()
    refusals: list[str] = []
    lock = threading.Lock()

    for message in messages:
        barrier = threading.Barrier(2)

        def decide(service, user, message=message, barrier=barrier) -> None:
            try:
                barrier.wait()
                service(message=OutboundMessage.objects.get(pk=message.pk), user=user)
            except ValidationError as exc:
                with lock:
                    refusals.append(" ".join(exc.messages))
            finally:
                connection.close()

        threads = [
            threading.Thread(target=decide, args=(message_mark_sent, ayse)),
            threading.Thread(target=decide, args=(message_resend, mehmet)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(refusals) == RACES  # one operator refused in every race
    doubles = 0
    sent_copies = {m.resend_of_id for m in OutboundMessage.objects.filter(resend_of__isnull=False)}
    for message in messages:
        debited = LedgerEntry.objects.filter(message=message, kind="post").exists()
        resent = message.pk in sent_copies
        assert debited or resent
        doubles += debited and resent
    assert doubles == 0
    # Provider sends: one per resent copy, none for a message marked sent.
    assert len(locmem.outbox) == len(sent_copies)
    # Every race cost exactly one credit: the original's or its copy's.
    assert LedgerEntry.objects.filter(kind="post").count() == RACES
    assert available_credits() == Decimal(100 - RACES)
    # The refused operator is told what the other one did.
    for refusal in refusals:
        assert "already marked it sent" in refusal or "already resent it as #" in refusal
