"""Scale-out with real processes, shared by ``tests/ops/test_scale_out.py`` and ``bench/scale.py``.

- ``CeleryProcesses`` starts Celery workers and a beat as real processes. Each worker is one
  process (``--pool=solo``), so killing it (SIGKILL) kills everything it was doing, as a
  machine that dies would. They use the database, Redis and broker named in their
  environment — the test's own database while a test runs.
- ``prepare_campaign`` builds the campaign both send: an operator SMS campaign to N guests
  of its own through a ``twilio_sms`` account pointing at the fake Twilio API.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """The URL of a Django PostgreSQL connection's settings (the test database during a test)."""
    user = quote(settings_dict.get("USER") or "postgres")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password)}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


class CeleryProcesses:
    """Start, kill and stop Celery workers and a beat, each with its log in a scratch folder."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="celery-processes-"))
        self.environment = {
            **os.environ,
            "DEBUG": "0",
            "CRM_VAR_DIR": str(self.scratch / "var"),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            **environment,
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self.host = socket.gethostname()

    def _start(self, name: str, argv: list[str], environment: Mapping[str, str]) -> None:
        log = (self.scratch / f"{name}.log").open("wb")
        self._logs[name] = log
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "crm_messaging", *argv],
            cwd=ROOT,
            env={**self.environment, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self, name: str, **environment: str) -> None:
        """Start a worker (one process); ``environment`` adds to the common one for it alone."""
        self._start(
            name,
            [
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                f"--hostname={name}@%h",
                "--without-mingle",
                "--without-gossip",
            ],
            environment,
        )

    def start_beat(self) -> None:
        self._start("beat", ["beat", "--loglevel=WARNING"], {})

    def wait_for_workers(self, app: Any, names: list[str], timeout: float = 60.0) -> None:
        """Block until every named worker answers a ping (it is consuming)."""
        wanted = {f"{name}@{self.host}" for name in names}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive(names)
            answered = {host for reply in app.control.ping(timeout=1.0) or [] for host in reply}
            if wanted <= answered:
                return
        raise TimeoutError(f"workers not up after {timeout:.0f} s: {self.tail(names)}")

    def check_alive(self, names: list[str]) -> None:
        for name in names:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited: {self.tail([name])}")

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to finish or acknowledge anything."""
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def stop(self) -> None:
        """Stop every process still running (SIGTERM, then SIGKILL)."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for log in self._logs.values():
            log.close()

    def tail(self, names: list[str] | None = None, lines: int = 30) -> str:
        out = []
        for name in names or list(self.processes):
            path = self.scratch / f"{name}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            out.append(f"--- {name}\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(out)


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, step: float = 0.5
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise TimeoutError(f"{what}: not after {timeout:.0f} s")


TWILIO_SID = "AC" + "5" * 32
TWILIO_TOKEN = "scale-out-token"
SMS_TEXT = "Dear @NAME, your room is ready. Breakfast is served until 10:30."


@dataclass(frozen=True)
class ScaleCampaign:
    campaign: Any
    account: Any
    guest_ids: list[int]


def prepare_campaign(
    *, guests: int, twilio_url: str, rate_per_second: int, tag: str = "Scaleout"
) -> ScaleCampaign:
    """An operator SMS campaign, ``guests`` guests of its own (last name ``tag``), credits for all.

    No quiet hours and approval thresholds above the send, so it goes at once; the account
    sends through the real twilio client to ``twilio_url`` at ``rate_per_second``.
    """
    from campaigns.models import (
        Campaign,
        CampaignSettings,
        CampaignStep,
        MessageVariant,
        Source,
        Trigger,
    )
    from channels_out.ledger import credits_add
    from channels_out.models import ChannelAccount, MessagingPolicy
    from guests.models import Guest

    policy = MessagingPolicy.load()
    policy.quiet_start_service = policy.quiet_end_service = None
    policy.quiet_start_marketing = policy.quiet_end_marketing = None
    policy.save()
    settings_row = CampaignSettings.load()
    settings_row.approval_cost_threshold = Decimal(10_000_000)
    settings_row.approval_recipient_threshold = 10_000_000
    settings_row.save()
    account, _ = ChannelAccount.objects.update_or_create(
        name=f"{tag}: Twilio SMS",
        defaults={
            "channel": "sms",
            "backend": "twilio_sms",
            "sender": "+905320000000",
            "account_id": TWILIO_SID,
            "secret": TWILIO_TOKEN,
            "api_base_url": twilio_url,
            "rate_per_second": Decimal(rate_per_second),
            "timeout_seconds": 10,
            "is_active": True,
        },
    )
    have = Guest.objects.filter(last_name=tag).count()
    Guest.objects.bulk_create(
        (
            Guest(
                first_name=f"Guest{i}",
                last_name=tag,
                phone=f"+90532{i:07d}",
                phone_valid=True,
                language="en",
                nationality="TR",
            )
            for i in range(have, guests)
        ),
        batch_size=5_000,
    )
    guest_ids = list(
        Guest.objects.filter(last_name=tag).order_by("pk").values_list("pk", flat=True)[:guests]
    )
    campaign = Campaign.objects.create(
        name=f"{tag} campaign {time.time():.0f}", trigger=Trigger.OPERATOR, source=Source.GUESTS
    )
    CampaignStep.objects.create(campaign=campaign, position=0, channel="sms", account=account)
    MessageVariant.objects.create(campaign=campaign, language="en", text=SMS_TEXT)
    credits_add(amount=Decimal(guests * 2), key=f"{tag}:{campaign.pk}", note="scale-out")
    return ScaleCampaign(campaign, account, guest_ids)
