"""What one render of a staff template may use: time, loop iterations, and memory (R5).

A render runs inside a :class:`Budget` (``budget_scope``): a deadline, a cap on loop
iterations over all loops together, and a cap on the bytes of new text and lists it builds
over all its steps together. The cap on what is built bounds the render's memory however the
template combines its steps: a value can only be kept (in a variable, a list, a macro's
output) after it was built, and everything built was counted. Each single value is also
bounded before it is built (:data:`MAX_VALUE_CHARS` characters, :data:`MAX_ITEMS` items), so
no one step can take more than a few megabytes either.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2.exceptions import SecurityError

from channels_out.services.messages import MAX_HTML_BYTES

__all__ = [
    "MAX_BUILT_BYTES",
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "MAX_LOOP_ITERATIONS",
    "MAX_RANGE",
    "MAX_VALUE_CHARS",
    "Budget",
    "LimitExceeded",
    "RenderTimeout",
    "budget_scope",
    "charge",
    "check_time",
    "clock",
    "current_budget",
    "ensure_bits",
    "ensure_chars",
    "ensure_items",
    "footprint",
    "tick",
]

MAX_RANGE = 1000
"""``range()`` gives at most this many numbers."""
MAX_VALUE_CHARS = MAX_HTML_BYTES
"""No text a template builds may be longer than the largest message it can produce."""
MAX_ITEMS = 10_000
"""No list, tuple or dict a template builds may hold more items (ten times ``range``'s cap)."""
MAX_INT_BITS = 4096
"""Numbers stay below 2**4096 (about 1233 digits)."""
MAX_LOOP_ITERATIONS = 100_000
"""Loop iterations allowed in one render, over all loops together."""
MAX_BUILT_BYTES = 4 * 1024 * 1024
"""Bytes of new text and lists one render may build, over all its steps together."""

clock: Callable[[], float] = time.monotonic
"""The clock deadlines are measured on (replaced by tests)."""


class LimitExceeded(SecurityError):
    """A template tried to build something too big, loop too long or take too much time."""


class RenderTimeout(LimitExceeded):
    """The render ran past its deadline."""


@dataclass
class Budget:
    """Time, loop iterations and built bytes one render may use."""

    deadline: float
    seconds: float
    iterations: int = 0
    built: int = 0

    @classmethod
    def starting_now(cls, seconds: float) -> Budget:
        return cls(deadline=clock() + seconds, seconds=seconds)

    def check(self) -> None:
        """Raise RenderTimeout once the deadline has passed."""
        if clock() > self.deadline:
            raise RenderTimeout(
                f"the template took longer than {self.seconds * 1000:.0f} ms to render"
            )

    def tick(self) -> None:
        """Count one loop iteration; raise LimitExceeded past the cap, RenderTimeout past the deadline."""
        self.iterations += 1
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise LimitExceeded(f"the template loops more than {MAX_LOOP_ITERATIONS:,} times")
        self.check()

    def charge(self, size: int) -> None:
        """Count ``size`` bytes the template built; raise LimitExceeded past MAX_BUILT_BYTES."""
        self.built += size
        if self.built > MAX_BUILT_BYTES:
            raise LimitExceeded(
                f"the template builds more than {MAX_BUILT_BYTES // (1024 * 1024)} MB of text"
            )


_BUDGET: ContextVar[Budget | None] = ContextVar("campaigns_render_budget", default=None)


@contextmanager
def budget_scope(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the one every step of templates rendered inside the block uses."""
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def current_budget() -> Budget | None:
    """Return the budget of the render in progress, if any."""
    return _BUDGET.get()


def tick() -> None:
    """Count one loop iteration against the render in progress."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()


def check_time() -> None:
    """Raise RenderTimeout when the render in progress is past its deadline."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.check()


def footprint(value: Any) -> int:
    """The bytes ``value`` took to build: a text's own size; a list's, tuple's or dict's with its
    texts (a text held twice counts twice: an over-count, never an under-count)."""
    if isinstance(value, str):
        return sys.getsizeof(value)
    if isinstance(value, list | tuple):
        return sys.getsizeof(value) + sum(
            sys.getsizeof(item) for item in value if isinstance(item, str)
        )
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(
            sys.getsizeof(item) for pair in value.items() for item in pair if isinstance(item, str)
        )
    return 0


def charge(value: Any) -> Any:
    """Count what building ``value`` took against the render in progress; return ``value``."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge(footprint(value))
    return value


def ensure_chars(size: int, what: str) -> None:
    """Refuse text of ``size`` characters beyond MAX_VALUE_CHARS, before it is built."""
    if size > MAX_VALUE_CHARS:
        raise LimitExceeded(
            f"{what} would be {size:,} characters long, more than the {MAX_VALUE_CHARS:,} allowed"
        )


def ensure_items(count: int, what: str) -> None:
    """Refuse a list of ``count`` items beyond MAX_ITEMS, before it is built."""
    if count > MAX_ITEMS:
        raise LimitExceeded(
            f"{what} would have {count:,} items, more than the {MAX_ITEMS:,} allowed"
        )


def ensure_bits(bits: int | float) -> None:
    """Refuse a number beyond MAX_INT_BITS bits, before it is computed."""
    if bits > MAX_INT_BITS:
        raise LimitExceeded(f"the number would be larger than 2**{MAX_INT_BITS}")
