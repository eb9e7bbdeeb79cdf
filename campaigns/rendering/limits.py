"""What one render of a staff template may use: time, loop iterations, and memory (R5).

A render runs inside a :class:`Budget` (``budget_scope``): a deadline, a cap on loop
iterations over all loops together, and a cap on the bytes of new text and lists it builds
over all its steps together. The cap on what is built bounds the render's memory however the
template combines its steps: a value can only be kept (in a variable, a list, a macro's
output) after it was built, and everything built was counted. Each single value is also
bounded before it is built (:data:`MAX_VALUE_CHARS` characters, :data:`MAX_ITEMS` items), so
no one step can take more than a few megabytes either.

What a template may turn into text, and how long that text is before it is built: only plain values become text: strings, numbers, booleans, None, dates and times, and lists,
tuples and dicts of them (the context's sections are such dicts). Anything else — a function,
a loop, a generator, a dict view, ``range`` — has a repr that tells where it lives
(``<function bounded_range at 0x…>``), so printing it, joining it, formatting it or passing
it through a text filter is refused. The size of a value's text is worked out from the value
(without building the text), so a repr or an escaped, URL-encoded or case-mapped text can be
refused before it exists.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from jinja2 import pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Undefined
from markupsafe import Markup

from channels_out.services.messages import MAX_HTML_BYTES

__all__ = [
    "Budget",
    "LimitExceeded",
    "MAX_BUILT_BYTES",
    "MAX_FORMAT_WIDTH",
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "MAX_LOOP_ITERATIONS",
    "MAX_RANGE",
    "MAX_VALUE_CHARS",
    "RenderTimeout",
    "bounded_items",
    "budget_scope",
    "case_mapped_size",
    "charge",
    "check_time",
    "clock",
    "current_budget",
    "ensure_bits",
    "ensure_chars",
    "ensure_items",
    "escaped_size",
    "footprint",
    "line_bound",
    "percent_size",
    "split_bound",
    "text_of",
    "text_size",
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
    """The render ran past its deadline of ``ms`` milliseconds."""

    def __init__(self, ms: int) -> None:
        self.ms = ms
        super().__init__(f"the template took longer than {ms} ms to render")


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
            raise RenderTimeout(round(self.seconds * 1000))

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


# -------------------------------------------------------------------------------------
# What a template may turn into text, and its size before it is built

_SCALARS = (str, int, float, Decimal, dt.date, dt.time)
# A %-conversion (not "%%"): %[(key)][flags][width][.precision][length]type
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([a-zA-Z%])")
MAX_FORMAT_WIDTH = 1000
"""Widths and precisions of %-conversions (``%-20s``, ``%.2f``) go up to this."""
# Characters str.split() and str.splitlines() break on: a bound on how many parts they make.
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _not_plain(value: Any) -> SecurityError:
    return SecurityError(
        f"a {type(value).__name__} cannot be printed or turned into text, "
        "only text, numbers, dates and lists of them"
    )


def _str_repr_size(text: str) -> int:
    """An upper bound of ``len(repr(text))``."""
    if text.isascii() and text.isprintable():
        return len(text) + 2 + text.count("\\") + text.count("'")
    return 10 * len(text) + 2  # \xNN, \uNNNN, \UNNNNNNNN


def _repr_size(value: Any, limit: int) -> int:
    """An upper bound of ``len(repr(value))`` for a plain value; stop counting past ``limit``."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, str):
        return _str_repr_size(value)
    if isinstance(value, int):
        return value.bit_length() * 31 // 100 + 2  # decimal digits (log10 2 < 0.31), sign
    if isinstance(value, float):
        return 24
    if isinstance(value, _SCALARS):
        return len(repr(value))  # Decimal, date, time: short
    if isinstance(value, list | tuple | dict):
        pairs: Iterable[Any] = value.items() if isinstance(value, dict) else value
        size = 2
        for item in pairs:
            parts = item if isinstance(value, dict) else (item,)
            for part in parts:
                size += _repr_size(part, limit - size) + 2
            if size > limit:
                break
        return size
    raise _not_plain(value)


def text_size(value: Any) -> int:
    """An upper bound of ``len(str(value))``; raise SecurityError for a value that is not plain.

    Values whose text would pass MAX_VALUE_CHARS give a number above it (possibly far below
    the real length: counting stops there).
    """
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Decimal | dt.date | dt.time):
        return len(str(value))
    return _repr_size(value, MAX_VALUE_CHARS)  # numbers, None and containers print their repr


def text_of(value: Any, what: str = "the text") -> str:
    """Return ``str(value)`` for a plain value, refused before it is built when it would be too long."""
    if isinstance(value, str):
        return value
    ensure_chars(text_size(value), what)
    text = str(value)
    return charge(text) if isinstance(value, list | tuple | dict) else text  # a number's is short


def escaped_size(text: str) -> int:
    """The length of ``text`` once HTML-escaped (Markup is already escaped)."""
    if isinstance(text, Markup):
        return len(text)
    return (
        len(text)
        + 4 * (text.count("&") + text.count('"') + text.count("'"))
        + 3 * (text.count("<") + text.count(">"))
    )


@pass_eval_context
def printed(eval_ctx: EvalContext, value: Any) -> Any:
    """What a template prints (the environments' ``finalize``): None as nothing, only plain
    values, and nothing too long once escaped."""
    if value is None:
        return ""
    text = text_of(value, "the printed value")
    # Jinja escapes what is printed; escaping makes a text at most five times longer.
    if eval_ctx.autoescape and 5 * len(text) > MAX_VALUE_CHARS:
        ensure_chars(escaped_size(text), "the printed value")
    return text


def case_mapped_size(text: str) -> int:
    """An upper bound of the length of ``text`` upper-, lower- or title-cased (one character
    maps to at most three: "ß" → "SS", "ΐ" → "Ϊ́")."""
    return len(text) if text.isascii() else 3 * len(text)


def split_bound(text: str, extra: str = "") -> int:
    """An upper bound of the parts ``text`` splits into at whitespace (and at ``extra``)."""
    return 1 + sum(map(text.count, _WHITESPACE + extra))


def line_bound(text: str) -> int:
    """An upper bound of the lines ``text.splitlines()`` gives."""
    return 1 + sum(map(text.count, _LINE_BREAKS))


def percent_size(template: str, args: Any) -> int:
    """An upper bound of ``len(template % args)``; refuse widths beyond MAX_FORMAT_WIDTH and
    arguments that are not plain.

    Each conversion is counted as long as the longest argument (``%(key)s`` may name the same
    long one many times), plus its width and precision.
    """
    conversions = 0
    reprs = False
    for match in _CONVERSION.finditer(template):
        width, precision, kind = match.groups()
        if kind == "%":
            continue
        for number in (width, precision):
            if number == "*" or (number and int(number) > MAX_FORMAT_WIDTH):
                raise LimitExceeded(f"format widths above {MAX_FORMAT_WIDTH} are not allowed")
        conversions += 1
        reprs = reprs or kind in "ra"
    if not conversions:
        return len(template)
    if isinstance(args, dict) and "%(" in template:
        candidates: Iterable[Any] = args.values()
    elif isinstance(args, tuple):
        candidates = args
    else:
        candidates = (args,)
    longest = 0
    for value in candidates:
        size = _repr_size(value, MAX_VALUE_CHARS) if reprs else text_size(value)
        longest = max(longest, size)
    if isinstance(template, Markup):
        longest *= 5  # the arguments are escaped: '"' → "&#34;"
    return len(template) + conversions * (longest + 2 * MAX_FORMAT_WIDTH + 32)


def bounded_items(value: Iterable[Any], what: str) -> list[Any]:
    """Return the items of ``value`` as a list, refused past MAX_ITEMS before they are all made."""
    if isinstance(value, list | tuple | str | dict):
        ensure_items(len(value), what)
        return charge(list(value))
    items = list(islice(iter(value), MAX_ITEMS + 1))
    ensure_items(len(items), what)
    return charge(items)
