"""What queueing would do, decided by the sender's own code and written nowhere (C9, C11).

A cost estimate, a preview's count and an approval threshold must count the people a send
will really reach. ``SendForecast`` runs requests through the very steps
``message_send_many`` takes — validation, the house's plan switches (Viber→SMS, Viber off),
address resolution, the consent and greylist rule, the marketing frequency cap, the
WhatsApp window, SMS parts, prices per destination, quiet hours, and the next step of a
plan when a channel cannot reach the guest — on unsaved rows, and reports each request's
outcome: the row that would be queued (with its credits) or the reason it would be skipped.
Only the credit reservation is left out: a forecast is what is compared with the balance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..models import MessagingPolicy, OutboundMessage, Status

# The forecast runs the queue's own steps (public in messages.py for this reason).
from .messages import (
    FALLBACK_SKIPS,
    AccountLookup,
    MessageRequest,
    message_fallback_row,
    message_rows_assess,
    message_rows_build,
)


@dataclass(frozen=True)
class Outcome:
    """What queueing one request would log.

    ``row`` is the step that would be queued or, when none would, the last one tried (skipped,
    with its reason); ``skipped`` are the steps skipped on the way to it. ``existing`` means
    the request's dedupe key is in the log already: queueing it adds nothing.
    """

    row: OutboundMessage
    skipped: tuple[OutboundMessage, ...] = ()
    existing: bool = False

    @property
    def queued(self) -> bool:
        return not self.existing and self.row.status == Status.QUEUED


class SendForecast:
    """Forecast ``message_send_many`` for requests given in one or several batches.

    Feed it the chunks a run would queue, in the same order: marketing messages decided in
    one batch count towards the frequency cap in the next, as written ones would. Reads the
    database, writes nothing. Raises ValidationError where ``message_send_many`` would.
    """

    def __init__(self) -> None:
        self.house = MessagingPolicy.load()
        self.accounts = AccountLookup()
        self.planned: Counter[int] = Counter()
        self.keys: set[str] = set()

    def outcomes(self, requests: Sequence[MessageRequest]) -> list[Outcome]:
        """Return the outcome of each request, in order."""
        rows = message_rows_build(requests, self.house, self.accounts)
        logged = self._logged([row.dedupe_key for row in rows])
        fresh: list[OutboundMessage] = []
        existing: set[int] = set()
        for index, row in enumerate(rows):
            if row.dedupe_key in logged or row.dedupe_key in self.keys:
                existing.add(index)
            else:
                self.keys.add(row.dedupe_key)
                fresh.append(row)
        message_rows_assess(fresh, self.house, planned=self.planned)
        # As the sender does: every first step is decided, then each skipped one falls back.
        return [
            Outcome(row, existing=True) if index in existing else self._follow(row)
            for index, row in enumerate(rows)
        ]

    def _follow(self, row: OutboundMessage) -> Outcome:
        """Walk ``row``'s plan as far as the sender would at queue time."""
        skipped: list[OutboundMessage] = []
        while row.status == Status.SKIPPED and row.skip_reason in FALLBACK_SKIPS:
            fallback = message_fallback_row(row, self.accounts)
            if fallback is None:
                break
            skipped.append(row)
            if self._logged([fallback.dedupe_key]):
                return Outcome(fallback, tuple(skipped), existing=True)
            message_rows_assess([fallback], self.house, planned=self.planned)
            row = fallback
        return Outcome(row, tuple(skipped))

    @staticmethod
    def _logged(keys: list[str]) -> set[str]:
        return set(
            OutboundMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )


def message_forecast_many(requests: Sequence[MessageRequest]) -> list[Outcome]:
    """What ``message_send_many(requests)`` would do, without writing anything."""
    return SendForecast().outcomes(requests)
