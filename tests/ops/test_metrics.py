"""Prometheus metrics at /metrics: what they say equals the database; who may read them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import Campaign, CampaignRun, Trigger
from channels_out.models import ChannelAccount, CreditBalance, OutboundMessage, Status
from crm_messaging.ops.tasks import heartbeat
from interfaces.monitoring.access import allowed_networks

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Client, **extra: str) -> Samples:
    answer = client.get("/metrics", **extra)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def send_log(accounts, top_up) -> list[OutboundMessage]:
    """Messages in every state, on two accounts; credits; campaign runs."""
    now = timezone.now()
    rows = [
        *[("sms", Status.SENT, {})] * 3,
        *[("sms", Status.DELIVERED, {})] * 2,
        ("sms", Status.UNDELIVERED, {}),
        *[("sms", Status.FAILED, {})] * 2,
        ("sms", Status.QUEUED, {}),
        ("sms", Status.QUEUED, {"not_before": now + dt.timedelta(hours=6)}),  # quiet hours
        ("sms", Status.QUEUED, {"not_before": now + dt.timedelta(seconds=40), "attempts": 2}),
        ("sms", Status.SENDING, {"attempts": 1}),
        *[("sms", Status.UNKNOWN, {"attempts": 1})] * 2,
        ("sms", Status.SKIPPED, {"skip_reason": "no_consent"}),
        *[("email", Status.SENT, {})] * 2,
        ("email", Status.FAILED, {}),
    ]
    messages = [
        OutboundMessage.objects.create(
            dedupe_key=f"m{i}",
            channel=channel,
            purpose="service",
            account=accounts[channel],
            to="+905321234567" if channel == "sms" else "guest@example.com",
            status=status,
            **fields,
        )
        for i, (channel, status, fields) in enumerate(rows)
    ]
    top_up(Decimal("42.5"))
    CreditBalance.objects.update(available=Decimal("40.5"), reserved=Decimal("2"))
    campaign = Campaign.objects.create(name="Spring", trigger=Trigger.OPERATOR)
    for occurrence, state in (("a", "done"), ("b", "done"), ("c", "refused")):
        CampaignRun.objects.create(
            campaign=campaign, trigger=Trigger.OPERATOR, occurrence=occurrence, state=state
        )
    return messages


def test_the_numbers_equal_the_database(client: Client, send_log: list[OutboundMessage]) -> None:
    samples = scrape(client)
    assert value(samples, "crm_database_read_ok") == 1

    by_status = Counter((m.status, m.channel) for m in OutboundMessage.objects.all())
    for (status, channel), n in by_status.items():
        assert value(samples, "crm_messages", status=status, channel=channel) == n
    assert sum(v for (name, _), v in samples.items() if name == "crm_messages") == len(send_log)

    for account in ChannelAccount.objects.filter(messages__isnull=False).distinct():
        mine = OutboundMessage.objects.filter(account=account)
        accepted = mine.filter(status__in=["sent", "delivered", "undelivered"]).count()
        failed = mine.filter(status__in=["failed", "undelivered"]).count()
        labels = {"account": account.name, "channel": account.channel}
        assert value(samples, "crm_account_messages_sent_total", **labels) == accepted
        assert value(samples, "crm_account_messages_failed_total", **labels) == failed
    assert value(samples, "crm_account_messages_sent_total", account="SMS", channel="sms") == 6

    now = timezone.now()
    queued = OutboundMessage.objects.filter(status=Status.QUEUED)
    assert (
        value(samples, "crm_queue_depth", state="queued")
        == queued.filter(not_before__isnull=True).count()
    )
    assert (
        value(samples, "crm_queue_depth", state="quiet_hours")
        == queued.filter(not_before__gt=now, attempts=0).count()
    )
    assert (
        value(samples, "crm_queue_depth", state="retry_wait")
        == queued.filter(not_before__gt=now, attempts__gt=0).count()
    )
    for state in ("sending", "unknown"):
        expected = OutboundMessage.objects.filter(status=state).count()
        assert value(samples, "crm_queue_depth", state=state) == expected
    assert {value(samples, "crm_queue_depth", state=s) for s in ("queued", "quiet_hours")} == {1}

    balance = CreditBalance.objects.get()
    assert value(samples, "crm_credits", kind="available") == float(balance.available) == 40.5
    assert value(samples, "crm_credits", kind="reserved") == float(balance.reserved)

    for (trigger, state), n in Counter(CampaignRun.objects.values_list("trigger", "state")).items():
        assert value(samples, "crm_campaign_runs", trigger=trigger, state=state) == n


def test_a_refused_webhook_is_counted(client: Client, accounts) -> None:
    sandbox = ChannelAccount.objects.create(
        channel="sms", backend="sandbox", name="Sandbox", webhook_secret="hook-secret"
    )
    before = value(scrape(client), "crm_webhook_rejections_total", kind="status")
    answer = client.post(
        f"/hooks/{sandbox.pk}/status/", data=b"{}", content_type="application/json"
    )
    assert answer.status_code == 403
    after = value(scrape(client), "crm_webhook_rejections_total", kind="status")
    assert after == before + 1


def test_a_task_run_is_timed(client: Client) -> None:
    labels = {"task": "ops.heartbeat", "state": "SUCCESS"}
    before = value(scrape(client), "crm_celery_task_runtime_seconds_count", **labels)
    heartbeat.delay()  # runs here (eager), through Celery's signals like on a worker
    after = value(scrape(client), "crm_celery_task_runtime_seconds_count", **labels)
    assert after == before + 1


def test_a_stranger_is_refused_and_the_token_lets_a_scraper_in(settings) -> None:
    settings.METRICS_TOKEN = "scrape-token-123"
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    assert stranger.get("/metrics").status_code == 403
    assert stranger.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert b"crm_messages" not in stranger.get("/metrics").content
    scrape(stranger, HTTP_AUTHORIZATION="Bearer scrape-token-123")
    settings.METRICS_ALLOWED_ADDRESSES = ["203.0.113.0/24"]
    scrape(Client(REMOTE_ADDR="203.0.113.9"))
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_behind_a_proxy_on_the_same_machine_the_client_it_forwards_is_judged(settings) -> None:
    """gunicorn on 127.0.0.1 behind a proxy on the same machine: the socket's address is the
    proxy's, an allowed one; the client is the address the proxy saw (TRUSTED_PROXIES)."""
    settings.TRUSTED_PROXIES = 1
    settings.METRICS_TOKEN = "scrape-token-123"
    through_proxy = Client(REMOTE_ADDR="127.0.0.1")
    stranger = through_proxy.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert stranger.status_code == 403
    assert b"crm_messages" not in stranger.content
    # What the client writes into the header himself is not believed.
    forged = through_proxy.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.5")
    assert forged.status_code == 403
    scrape(
        through_proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.5",
        HTTP_AUTHORIZATION="Bearer scrape-token-123",
    )
    # A scraper on the machine, through the proxy and straight to gunicorn.
    scrape(through_proxy, HTTP_X_FORWARDED_FOR="127.0.0.1")
    scrape(Client(REMOTE_ADDR="127.0.0.1"))


def test_a_client_past_the_proxy_cannot_claim_an_allowed_address(settings) -> None:
    """With TRUSTED_PROXIES set, a stranger who reaches gunicorn directly and writes an allowed
    address into X-Forwarded-For is still a stranger: the connecting address counts too."""
    settings.TRUSTED_PROXIES = 1
    settings.METRICS_TOKEN = "scrape-token-123"
    past_the_proxy = Client(REMOTE_ADDR="203.0.113.5")
    forged = past_the_proxy.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert forged.status_code == 403 and b"crm_messages" not in forged.content
    scrape(past_the_proxy, HTTP_AUTHORIZATION="Bearer scrape-token-123")  # the token still works


def test_a_malformed_allowed_address_is_refused() -> None:
    with (
        override_settings(METRICS_ALLOWED_ADDRESSES=["10.0.0.0/33"]),
        pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_ADDRESSES"),
    ):
        allowed_networks()


def test_counts_of_several_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    """As under gunicorn: forked workers count, the scrape of any one sees the sum."""
    script = textwrap.dedent(
        """
        import multiprocessing
        import django
        django.setup()
        from prometheus_client import generate_latest
        from crm_messaging.ops.prometheus import multiprocess_dir_reset
        multiprocess_dir_reset()
        from interfaces.monitoring.metrics import WEBHOOK_REJECTIONS, event_registry

        def worker():
            WEBHOOK_REJECTIONS.labels(kind="status").inc()

        children = [multiprocessing.get_context("fork").Process(target=worker) for _ in range(3)]
        for child in children:
            child.start()
        for child in children:
            child.join()
        WEBHOOK_REJECTIONS.labels(kind="inbound").inc()
        print(generate_latest(event_registry()).decode())
        """
    )
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    samples = {
        (s.name, s.labels.get("kind")): s.value
        for family in text_string_to_metric_families(done.stdout)
        for s in family.samples
    }
    assert samples[("crm_webhook_rejections_total", "status")] == 3
    assert samples[("crm_webhook_rejections_total", "inbound")] == 1
