"""Credits: what a message costs (K1) and the ledger of every movement (K3, R3) — once,
never below zero.

Prices are a table of credits per SMS part or message, per channel and destination
country (``PriceTable``, loaded once for many messages).

Movements are recorded under the lock of the single ``CreditBalance`` row: the keys already
recorded are read, the running balance is checked, then one UPDATE of the row and one
INSERT of the ``LedgerEntry`` rows follow, in one savepoint — for one movement or for a
whole batch (a campaign chunk's reservations, a delivery batch's debits). The unique
idempotency key makes a repeated movement a no-op; the row's check constraints make a
negative balance impossible even for a bug, also with many workers.

A message's credits are reserved when it is queued, posted (debited) when the provider
accepts it, and released when it fails or is skipped; post and release exclude each other.

Crossings are told here too, under the same lock and in the same transaction as the
movement that causes them (K5): the balance falling under the low-balance threshold sends
``credits_low`` once per crossing (re-armed when it is back at or above the threshold), and
a reservation refused for want of credits — automated sends stopping — sends
``credits_exhausted`` once until credits are added. Receivers act on commit, so a movement
that is rolled back tells nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm_messaging.i18n import Phrase, amount_text
from guests.models import ContactChannel

from .models import CreditBalance, LedgerEntry, MessagingPolicy, OutboundMessage, PriceRule
from .signals import credits_exhausted, credits_low

# Used when the price table has no rule for a channel (1 EUR = 10 credits; seed 001).
DEFAULT_CREDITS_PER_UNIT: dict[str, Decimal] = {
    ContactChannel.SMS: Decimal("1"),
    ContactChannel.VIBER: Decimal("1"),
    ContactChannel.WHATSAPP: Decimal("0"),
    ContactChannel.EMAIL: Decimal("0"),
}


class PriceTable:
    """The price rules loaded once, for pricing many messages without a query each."""

    def __init__(self) -> None:
        self._rules = {
            (r.channel, str(r.country)): r.credits_per_unit for r in PriceRule.objects.all()
        }

    def per_unit(self, channel: str, country: str) -> Decimal:
        for key in ((channel, country or ""), (channel, "")):
            if key in self._rules:
                return self._rules[key]
        return DEFAULT_CREDITS_PER_UNIT[channel]

    def cost(self, channel: str, country: str, segments: int) -> Decimal:
        """Credits for one message: SMS pay per part, the other channels per message."""
        units = max(segments, 1) if channel == ContactChannel.SMS else 1
        return self.per_unit(channel, country) * units


Kind = LedgerEntry.Kind
ZERO = Decimal("0")


class InsufficientCredits(Exception):
    """The balance cannot cover a cost; the message says both numbers, for staff."""

    def __init__(self, needed: Decimal, available: Decimal) -> None:
        self.needed = needed
        self.available = available
        super().__init__(shortfall(needed, available))


class LedgerConflict(Exception):
    """A movement contradicts an earlier one (e.g. posting a message whose credits were released)."""


# Counted by the cost (Phrase.plural); the catalogue holds the pair as msgid/msgid_plural.
_SHORTFALL = (
    "cost %(cost)s credit, balance %(balance)s",
    "cost %(cost)s credits, balance %(balance)s",
)


def shortfall(needed: Decimal, available: Decimal, *, for_reader: bool = False) -> str:
    """Why credits do not cover a cost: "cost 6 credits, balance 5.50".

    As stored (a message's reason, a run's refusal) it is English; ``for_reader`` gives it
    in the active language, for a screen.
    """
    phrase = shortfall_phrase(needed, available)
    return str(phrase) if for_reader else phrase.english()


def shortfall_phrase(needed: Decimal, available: Decimal) -> Phrase:
    """``shortfall`` in no language, for words stored and read later (a skipped message's
    detail, a refused run's refusal); its amounts read as the reader writes numbers."""
    one, many = _SHORTFALL
    return Phrase(one, {"cost": needed, "balance": available}, plural=many, count="cost")


def credits_text(value: Decimal | None) -> str:
    """Credits as staff read them, in the active language: 1,250 or 12.50 (1.250 or 12,50 in
    Turkish)."""
    if value is None:
        return "—"
    return amount_text(value)


def _locked_balance() -> CreditBalance:
    """Read the balance row under its lock: from here to the end of the transaction movements are serialised.

    (SQLite takes no row lock, but the project opens its SQLite transactions IMMEDIATE:
    one writer at a time.)
    """
    balance = CreditBalance.objects.select_for_update().filter(pk=CreditBalance.ROW).first()
    return (
        balance or CreditBalance.load()
    )  # a flush (test databases) removed the row the migration creates


@dataclass(frozen=True)
class _Movement:
    kind: str
    key: str
    available_delta: Decimal
    reserved_delta: Decimal
    amount: Decimal
    excludes: str | None = None  # a key whose presence forbids this movement (post vs release)
    fields: dict[str, Any] = field(default_factory=dict)


def _move_many(
    movements: list[_Movement], *, until_short: bool = False
) -> list[LedgerEntry | None]:
    """Record ``movements`` in order, each once per key; return their entries (the earlier one for a repeat).

    Under the balance row's lock the existing keys are read, the running balance is checked
    in order, and then one UPDATE of the balance and one INSERT of the entries follow. A
    movement that would take ``available`` below zero raises InsufficientCredits (and
    nothing is recorded) — or, with ``until_short``, ends the batch there: the movements
    before it are recorded and it and the rest get None.
    """
    if not movements:
        return []
    with transaction.atomic():
        balance = _locked_balance()
        keys = {m.key for m in movements} | {m.excludes for m in movements if m.excludes}
        done: dict[str, LedgerEntry] = {
            e.idempotency_key: e for e in LedgerEntry.objects.filter(idempotency_key__in=keys)
        }
        available, reserved = balance.available, balance.reserved
        results: list[LedgerEntry | None] = []
        fresh: list[LedgerEntry] = []
        refused = False
        for movement in movements:
            if movement.key in done:
                results.append(done[movement.key])
                continue
            if movement.excludes and movement.excludes in done:
                raise LedgerConflict(f"{movement.key} contradicts {movement.excludes}")
            if available + movement.available_delta < 0:
                if until_short:
                    results.extend([None] * (len(movements) - len(results)))
                    refused = True
                    break
                raise InsufficientCredits(-movement.available_delta, available)
            if reserved + movement.reserved_delta < 0:
                raise LedgerConflict(
                    f"{movement.kind} {movement.key}: only {reserved} credits are reserved"
                )
            available += movement.available_delta
            reserved += movement.reserved_delta
            entry = LedgerEntry(
                kind=movement.kind,
                idempotency_key=movement.key,
                amount=movement.amount,
                available_delta=movement.available_delta,
                reserved_delta=movement.reserved_delta,
                available_after=available,
                **movement.fields,
            )
            done[movement.key] = entry
            fresh.append(entry)
            results.append(entry)
        if fresh:
            # The check constraints stay the last word: a balance never goes below zero.
            CreditBalance.objects.filter(pk=CreditBalance.ROW).update(
                available=F("available") + (available - balance.available),
                reserved=F("reserved") + (reserved - balance.reserved),
            )
            LedgerEntry.objects.bulk_create(fresh)
        _tell_crossings(
            balance,
            available,
            added=any(
                e.available_delta > 0 for e in fresh if e.kind in (Kind.PURCHASE, Kind.ADJUSTMENT)
            ),
            refused=refused,
        )
        return results


def _tell_crossings(
    balance: CreditBalance, available: Decimal, *, added: bool, refused: bool
) -> None:
    """Send ``credits_low`` / ``credits_exhausted`` for a crossing this movement caused (once each).

    Called under the balance row's lock with the balance before (``balance``) and after
    (``available``) the movement; the row remembers a crossing until it is undone, so two
    workers debiting at once tell it once.
    """
    if available == balance.available and not refused:
        return  # only holds posted: nothing crossed (a changed threshold is seen on the next move)
    threshold = MessagingPolicy.load().low_balance_threshold
    now = timezone.now()
    changes: dict[str, Any] = {}
    low = available < threshold
    # Only spending crosses downwards: a top-up that leaves the balance short crossed nothing.
    if low and balance.low_since is None and available < balance.available:
        changes["low_since"] = now
    elif not low and balance.low_since is not None:
        changes["low_since"] = None
    if refused and balance.exhausted_since is None:
        changes["exhausted_since"] = now
    elif added and balance.exhausted_since is not None:
        changes["exhausted_since"] = None
    if not changes:
        return
    CreditBalance.objects.filter(pk=balance.pk).update(**changes)
    if changes.get("low_since"):
        credits_low.send(sender=CreditBalance, available=available, threshold=threshold, at=now)
    if changes.get("exhausted_since"):
        credits_exhausted.send(sender=CreditBalance, available=available, at=now)


def _move(**movement: Any) -> LedgerEntry:
    fields = {k: movement.pop(k) for k in list(movement) if k not in _Movement.__dataclass_fields__}
    entry = _move_many([_Movement(**movement, fields=fields)])[0]
    assert entry is not None
    return entry


def available_credits() -> Decimal:
    """Return the credits free to spend now."""
    return CreditBalance.load().available


def credits_reserve(message: OutboundMessage) -> LedgerEntry | None:
    """Hold ``message.credits`` for a queued message; InsufficientCredits if the balance is short."""
    if message.credits <= 0:
        return None
    return _move_many([_reserve(message)])[0]


def _reserve(message: OutboundMessage) -> _Movement:
    return _Movement(
        kind=Kind.RESERVE,
        key=f"reserve:{message.pk}",
        available_delta=-message.credits,
        reserved_delta=message.credits,
        amount=message.credits,
        fields={"message": message},
    )


def credits_reserve_many(messages: list[OutboundMessage]) -> set[int]:
    """Hold credits for many queued messages at once; return the ids that got their credits.

    In order, until the balance runs out (the rest get nothing); messages already holding
    credits, or costing none, count as reserved.
    """
    paying = [m for m in messages if m.credits > 0]
    done = {m.pk for m in messages if m.credits <= 0}
    entries = _move_many([_reserve(m) for m in paying], until_short=True)
    return done | {m.pk for m, entry in zip(paying, entries, strict=True) if entry is not None}


def _post(message: OutboundMessage) -> _Movement:
    return _Movement(
        kind=Kind.POST,
        key=f"post:{message.pk}",
        available_delta=ZERO,
        reserved_delta=-message.credits,
        amount=message.credits,
        excludes=f"release:{message.pk}",
        fields={"message": message},
    )


def credits_post_many(messages: list[OutboundMessage]) -> None:
    """Debit the held credits of messages the provider accepted (each once), in one movement."""
    _move_many([_post(m) for m in messages if m.credits > 0])


def credits_post(message: OutboundMessage) -> LedgerEntry | None:
    """Debit the held credits of a message the provider accepted (once)."""
    if message.credits <= 0:
        return None
    return _move_many([_post(message)])[0]


def credits_release(message: OutboundMessage) -> LedgerEntry | None:
    """Give back the held credits of a message that will not be sent (once; none if posted)."""
    if (
        message.credits <= 0
        or not LedgerEntry.objects.filter(idempotency_key=f"reserve:{message.pk}").exists()
    ):
        return None
    if LedgerEntry.objects.filter(idempotency_key=f"post:{message.pk}").exists():
        return None
    return _move(
        kind=Kind.RELEASE,
        key=f"release:{message.pk}",
        available_delta=message.credits,
        reserved_delta=-message.credits,
        amount=message.credits,
        excludes=f"post:{message.pk}",
        message=message,
    )


def credits_add(
    *, amount: Decimal, key: str, kind: str = Kind.PURCHASE, **entry_fields: Any
) -> LedgerEntry:
    """Add credits (a paid order or a positive adjustment), once per ``key``."""
    if amount <= 0:
        raise ValueError("An addition of credits must be positive.")
    return _move(
        kind=kind,
        key=key,
        available_delta=amount,
        reserved_delta=ZERO,
        amount=amount,
        **entry_fields,
    )


def credits_remove(*, amount: Decimal, key: str, **entry_fields: Any) -> LedgerEntry:
    """Take credits away (a negative adjustment), once per ``key``; InsufficientCredits if short."""
    if amount <= 0:
        raise ValueError("A removal of credits must be positive.")
    return _move(
        kind=Kind.ADJUSTMENT,
        key=key,
        available_delta=-amount,
        reserved_delta=ZERO,
        amount=amount,
        **entry_fields,
    )
