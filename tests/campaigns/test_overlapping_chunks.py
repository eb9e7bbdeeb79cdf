"""Two workers running overlapping chunks of one run at once queue every record exactly once (R1).

A lost chunk is re-driven by the tick while the original may still be running, so two
processes can render and insert the same dedupe keys at the same moment. Neither may crash,
and the records only one of them covers must still get their message.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections import Counter
from typing import Any

import pytest
from django.db import connections

from campaigns.models import Trigger
from campaigns.occurrences import Occurrence
from campaigns.services import run_open, run_send_chunk
from channels_out.models import OutboundMessage, Status
from tests.factories import GuestFactory, ReservationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _chunk_in_a_process(run_id: int, record_ids: list[int], barrier: Any, errors: Any) -> None:
    """Child process: wait for the other worker, then run the chunk against the test database."""
    try:
        barrier.wait(timeout=60)
        run_send_chunk(run_id, record_ids)
    except BaseException:
        errors.put(traceback.format_exc())
        raise
    finally:
        connections.close_all()


def test_two_processes_running_overlapping_chunks_queue_every_record_once(
    make_campaign, top_up, hotel
) -> None:
    top_up(1000)
    campaign = make_campaign(trigger=Trigger.OPERATOR, source="reservations")
    reservations = [
        ReservationFactory(booker=GuestFactory(), arrival=hotel.business_date) for _ in range(200)
    ]
    ids = sorted(r.pk for r in reservations)
    run, _ = run_open(campaign, Occurrence.operator(), trigger=Trigger.OPERATOR)
    # The original chunk covers the first 150, the re-driven one the last 150: 100 overlap.
    chunks = [ids[:150], ids[50:]]

    connections.close_all()  # the children open their own connections, never this one's socket
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    errors = context.Queue()
    workers = [
        context.Process(target=_chunk_in_a_process, args=(run.pk, chunk, barrier, errors))
        for chunk in chunks
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    failures = []
    while not errors.empty():
        failures.append(errors.get())

    assert failures == []
    assert [worker.exitcode for worker in workers] == [0, 0]
    per_record = Counter(
        OutboundMessage.objects.filter(reservation_id__in=ids).values_list(
            "reservation_id", flat=True
        )
    )
    assert per_record == dict.fromkeys(ids, 1)
    assert set(OutboundMessage.objects.values_list("status", flat=True)) <= {
        Status.QUEUED,
        Status.SENT,
    }
