"""Two workers running overlapping chunks of one run at once queue every record exactly once (R1).

A lost chunk is re-driven by the tick while the original may still be running, so two
processes can render and insert the same dedupe keys at the same moment. Neither may crash,
and the records only one of them covers must still get their message. The workers are
separate Python processes (``tests/campaigns/chunk_process.py``) on the test database,
started together once both are ready.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from campaigns.models import Trigger
from campaigns.occurrences import Occurrence
from campaigns.services import run_open
from channels_out.models import OutboundMessage, Status
from tests.factories import GuestFactory, ReservationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    """The test database (pytest-django renamed it) as a URL for another process."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _start(run_id: int, record_ids: list[int]) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "1",  # its messages go out in the process, as in a worker
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.campaigns.chunk_process", str(run_id), *map(str, record_ids)],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
    workers = [_start(run.pk, ids[:150]), _start(run.pk, ids[50:])]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:  # both are ready: go
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outcomes = [worker.communicate(timeout=120) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], [err for _, err in outcomes]
    assert not [err for _, err in outcomes if "Traceback" in err]
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
