"""The credit ledger (K3, R3): every movement of credits, once, never below zero.

Each movement is one conditional UPDATE of the single ``CreditBalance`` row (the database's
check constraint and the ``WHERE available >= amount`` make a negative balance impossible,
also with many workers) plus one ``LedgerEntry`` whose unique idempotency key makes a
repeated call a no-op. Both happen in one savepoint: a duplicate key undoes the update.

A message's credits are reserved when it is queued, posted (debited) when the provider
accepts it, and released when it fails or is skipped; post and release exclude each other.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from .models import CreditBalance, LedgerEntry, OutboundMessage

Kind = LedgerEntry.Kind
ZERO = Decimal("0")


class InsufficientCredits(Exception):
    """The balance cannot cover a cost; the message says both numbers, for staff."""

    def __init__(self, needed: Decimal, available: Decimal) -> None:
        self.needed = needed
        self.available = available
        super().__init__(f"cost {_fmt(needed)} credits, balance {_fmt(available)}")


class LedgerConflict(Exception):
    """A movement contradicts an earlier one (e.g. posting a message whose credits were released)."""


def _fmt(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _balance() -> CreditBalance:
    balance, _ = CreditBalance.objects.get_or_create(pk=1)
    return balance


class _Repeated(Exception):
    """The movement was recorded before: undo this attempt's update and return that entry."""


_UPDATE_RETURNING = f"""
    UPDATE {CreditBalance._meta.db_table}
    SET available = available + %s, reserved = reserved + %s
    WHERE id = 1 AND available >= %s AND reserved >= %s
    RETURNING id, available
"""


def _update_balance(available_delta: Decimal, reserved_delta: Decimal) -> Decimal | None:
    """Add the deltas unless a total would fall below zero; return ``available`` after, None if refused.

    One conditional UPDATE: it takes the row lock, so from here to the end of the
    transaction movements are serialised, and it re-checks its condition on the locked row.
    """
    floors = [max(-available_delta, ZERO), max(-reserved_delta, ZERO)]
    if connection.features.can_return_columns_from_insert:  # UPDATE … RETURNING: PostgreSQL, SQLite ≥ 3.35
        # raw() rather than a cursor: Django converts the column (SQLite hands back a float).
        moved = list(CreditBalance.objects.raw(_UPDATE_RETURNING, [available_delta, reserved_delta, *floors]))
        return moved[0].available if moved else None
    rows = CreditBalance.objects.filter(pk=1, available__gte=floors[0], reserved__gte=floors[1])
    if not rows.update(available=F("available") + available_delta, reserved=F("reserved") + reserved_delta):
        return None
    return CreditBalance.objects.values_list("available", flat=True).get(pk=1)


def _move(
    *,
    kind: str,
    key: str,
    available_delta: Decimal,
    reserved_delta: Decimal,
    amount: Decimal,
    excludes: str | None = None,
    **entry_fields: Any,
) -> LedgerEntry:
    try:
        with transaction.atomic():
            after = _update_balance(available_delta, reserved_delta)
            if after is None and not CreditBalance.objects.filter(pk=1).exists():
                _balance()  # a flush (test databases) removed the row the migration creates
                after = _update_balance(available_delta, reserved_delta)
            # Read after the UPDATE, under its lock: no other movement can come in between.
            done = set(
                LedgerEntry.objects.filter(idempotency_key__in={key, excludes or key})
                .order_by()
                .values_list("idempotency_key", flat=True)
            )
            if key in done:
                raise _Repeated
            if excludes in done:
                raise LedgerConflict(f"{key} contradicts {excludes}")
            if after is None:
                current = CreditBalance.objects.get(pk=1)
                if available_delta < 0 and current.available < -available_delta:
                    raise InsufficientCredits(-available_delta, current.available)
                raise LedgerConflict(f"{kind} {key}: only {current.reserved} credits are reserved")
            return LedgerEntry.objects.create(
                kind=kind,
                idempotency_key=key,
                amount=amount,
                available_delta=available_delta,
                reserved_delta=reserved_delta,
                available_after=after,
                **entry_fields,
            )
    except (_Repeated, IntegrityError):
        # Recorded before, or by another worker just now; the savepoint undid our update.
        return LedgerEntry.objects.get(idempotency_key=key)


def available_credits() -> Decimal:
    """Return the credits free to spend now."""
    return _balance().available


def credits_reserve(message: OutboundMessage) -> LedgerEntry | None:
    """Hold ``message.credits`` for a queued message; InsufficientCredits if the balance is short."""
    if message.credits <= 0:
        return None
    return _move(
        kind=Kind.RESERVE,
        key=f"reserve:{message.pk}",
        available_delta=-message.credits,
        reserved_delta=message.credits,
        amount=message.credits,
        message=message,
    )


def credits_reserve_many(messages: list[OutboundMessage]) -> set[int]:
    """Hold credits for many queued messages at once; return the ids that got their credits.

    One conditional UPDATE covers the whole batch when the balance allows; otherwise the
    messages are reserved one by one, in order, until the balance runs out (the rest get
    nothing). Messages already holding credits count as reserved.
    """
    paying = [m for m in messages if m.credits > 0]
    done = {m.pk for m in messages if m.credits <= 0}
    if not paying:
        return done
    keys = {f"reserve:{m.pk}": m for m in paying}
    held = set(LedgerEntry.objects.filter(idempotency_key__in=list(keys)).values_list("idempotency_key", flat=True))
    done |= {keys[k].pk for k in held}
    todo = [m for k, m in keys.items() if k not in held]
    if not todo:
        return done
    total = sum((m.credits for m in todo), ZERO)
    _balance()
    try:
        with transaction.atomic():
            if CreditBalance.objects.filter(pk=1, available__gte=total).update(
                available=F("available") - total, reserved=F("reserved") + total
            ):
                running = CreditBalance.objects.values_list("available", flat=True).get(pk=1) + total
                entries = []
                for message in todo:
                    running -= message.credits
                    entries.append(LedgerEntry(
                        kind=Kind.RESERVE, idempotency_key=f"reserve:{message.pk}", amount=message.credits,
                        available_delta=-message.credits, reserved_delta=message.credits, available_after=running,
                        message=message,
                    ))
                LedgerEntry.objects.bulk_create(entries)
                return done | {m.pk for m in todo}
    except IntegrityError:
        pass  # another worker reserved some of these meanwhile: go one by one
    for message in todo:
        try:
            credits_reserve(message)
        except InsufficientCredits:
            break
        done.add(message.pk)
    return done


def credits_post(message: OutboundMessage) -> LedgerEntry | None:
    """Debit the held credits of a message the provider accepted (once)."""
    if message.credits <= 0:
        return None
    return _move(
        kind=Kind.POST,
        key=f"post:{message.pk}",
        available_delta=ZERO,
        reserved_delta=-message.credits,
        amount=message.credits,
        excludes=f"release:{message.pk}",
        message=message,
    )


def credits_release(message: OutboundMessage) -> LedgerEntry | None:
    """Give back the held credits of a message that will not be sent (once; none if posted)."""
    if message.credits <= 0 or not LedgerEntry.objects.filter(idempotency_key=f"reserve:{message.pk}").exists():
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


def credits_add(*, amount: Decimal, key: str, kind: str = Kind.PURCHASE, **entry_fields: Any) -> LedgerEntry:
    """Add credits (a paid order or a positive adjustment), once per ``key``."""
    if amount <= 0:
        raise ValueError("An addition of credits must be positive.")
    return _move(kind=kind, key=key, available_delta=amount, reserved_delta=ZERO, amount=amount, **entry_fields)


def credits_remove(*, amount: Decimal, key: str, **entry_fields: Any) -> LedgerEntry:
    """Take credits away (a negative adjustment), once per ``key``; InsufficientCredits if short."""
    if amount <= 0:
        raise ValueError("A removal of credits must be positive.")
    return _move(kind=Kind.ADJUSTMENT, key=key, available_delta=-amount, reserved_delta=ZERO, amount=amount, **entry_fields)
