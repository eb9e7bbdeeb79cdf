"""What a template may turn into text, and how long that text is before it is built (R5).

Only plain values become text: strings, numbers, booleans, None, dates and times, and lists,
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
from collections.abc import Iterable
from decimal import Decimal
from itertools import islice
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.runtime import Undefined
from markupsafe import Markup

from .limits import MAX_ITEMS, MAX_VALUE_CHARS, LimitExceeded, charge, ensure_chars, ensure_items

__all__ = [
    "MAX_FORMAT_WIDTH",
    "bounded_items",
    "case_mapped_size",
    "escaped_size",
    "line_bound",
    "percent_size",
    "split_bound",
    "text_of",
    "text_size",
]

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
