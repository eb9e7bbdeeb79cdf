"""Numbers read from the database when Prometheus scrapes (a custom collector)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from campaigns.selectors import run_counts_by_state
from channels_out.selectors import credit_balance, message_counts, queue_depth
from channels_out.services.status import ACCEPTED_STATUSES, FAILED_STATUSES

logger = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    """The send log, the queue, the credit balance and campaign runs, as they are now."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "crm_database_read_ok", "1 when this scrape could read the database, else 0."
        )
        try:
            families = list(self._read())
        except Exception:
            logger.exception("Metrics: reading the database failed")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        counts = message_counts()
        by_status = GaugeMetricFamily(
            "crm_messages",
            "Messages in the send log, by status and channel.",
            labels=["status", "channel"],
        )
        totals: Counter[tuple[str, str]] = Counter()
        sent: Counter[tuple[str, str]] = Counter()
        failed: Counter[tuple[str, str]] = Counter()
        for row in counts:
            totals[(row.status, row.channel)] += row.count
            if row.status in ACCEPTED_STATUSES:
                sent[(row.account, row.channel)] += row.count
            if row.status in FAILED_STATUSES:
                failed[(row.account, row.channel)] += row.count
        for (status, channel), n in sorted(totals.items()):
            by_status.add_metric([status, channel], n)
        yield by_status

        yield _per_account(
            "crm_account_messages_sent",
            "Messages a provider accepted (sent, delivered or undelivered), per account; "
            "rate() gives the send rate.",
            sent,
        )
        yield _per_account(
            "crm_account_messages_failed",
            "Messages that failed or were not delivered, per account; rate() gives the failure rate.",
            failed,
        )

        depth = GaugeMetricFamily(
            "crm_queue_depth",
            "Messages not yet settled: queued (due), retry_wait, quiet_hours, sending, unknown.",
            labels=["state"],
        )
        for state, n in queue_depth().items():
            depth.add_metric([state], n)
        yield depth

        balance = credit_balance()
        credits = GaugeMetricFamily(
            "crm_credits", "The prepaid credit balance: available and reserved.", labels=["kind"]
        )
        credits.add_metric(["available"], float(balance.available))
        credits.add_metric(["reserved"], float(balance.reserved))
        yield credits
        low = GaugeMetricFamily(
            "crm_credits_low", "1 when the available credits are under the low-balance threshold."
        )
        low.add_metric([], 1 if balance.is_low else 0)
        yield low

        runs = GaugeMetricFamily(
            "crm_campaign_runs", "Campaign runs, by trigger and state.", labels=["trigger", "state"]
        )
        for (trigger, state), n in sorted(run_counts_by_state().items()):
            runs.add_metric([trigger, state], n)
        yield runs


def _per_account(name: str, documentation: str, counts: Counter[tuple[str, str]]) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=["account", "channel"])
    for (account, channel), n in sorted(counts.items()):
        family.add_metric([account, channel], n)
    return family
