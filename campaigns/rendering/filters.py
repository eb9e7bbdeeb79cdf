"""The filters staff templates may use, each bounded in what it builds (R5).

Jinja's own filters are kept where they cannot build anything big (``length``, ``first``,
``default``, ``map`` …). The ones that turn a value into text take only plain values
(see :mod:`.limits`) and are refused before they build a text longer than
:data:`~.limits.MAX_VALUE_CHARS` — escaping, URL-encoding and case mapping can make a text
several times longer, ``format`` and ``join`` many times. The ones that build lists refuse
more than :data:`~.limits.MAX_ITEMS` items before making them. Everything they build is
counted against the render's budget.

Left out: ``safe`` (guest data is never trusted HTML), ``center``/``indent``/``wordwrap``/
``batch``/``slice`` (their widths and counts inflate output), ``random``, ``pprint``,
``tojson``, ``urlize``, ``xmlattr``, ``filesizeformat``, ``forceescape``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import filters, pass_environment, pass_eval_context
from jinja2.filters import make_attrgetter
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from .limits import (
    LimitExceeded,
    bounded_items,
    case_mapped_size,
    charge,
    check_time,
    ensure_chars,
    ensure_items,
    escaped_size,
    percent_size,
    split_bound,
    text_of,
    text_size,
)

__all__ = ["KEPT_FILTERS", "message_filters"]

KEPT_FILTERS = frozenset(
    {
        "abs",
        "attr",
        "count",
        "d",
        "default",
        "first",
        "float",
        "int",
        "items",
        "last",
        "length",
        "map",
        "max",
        "min",
        "reject",
        "rejectattr",
        "round",
        "select",
        "selectattr",
        "unique",
    }
)
"""Jinja's filters kept as they are: they build nothing that grows."""

_WORD = re.compile(r"\w+")


def _built(value: Any, result: Any) -> Any:
    return result if result is value else charge(result)


def _on_text(
    func: Callable[..., Any], size: Callable[[str], int] | None = None
) -> Callable[..., Any]:
    """Wrap Jinja's ``func`` so its value is plain text, and its result no longer than ``size`` says."""
    index = 1 if getattr(func, "jinja_pass_arg", None) else 0

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        value = text_of(args[index])
        if size is not None:
            ensure_chars(size(value), f"the text of the {func.__name__.removeprefix('do_')} filter")
        return _built(value, func(*args[:index], value, *args[index + 1 :], **kwargs))

    return bounded


def _title_size(text: str) -> int:
    # Jinja's title splits the text into words first: as many parts as separators, twice.
    ensure_items(2 * split_bound(text, "-({[<"), "the words of the title-cased text")
    return case_mapped_size(text)


def _stripped_size(text: str) -> int:
    # striptags joins the words left once the tags are gone.
    ensure_items(split_bound(text, "<"), "the words of the text without tags")
    return len(text)


def _escape(value: Any) -> Markup:
    check_time()
    if hasattr(value, "__html__"):
        return escape(value)
    text = text_of(value)
    ensure_chars(escaped_size(text), "the escaped text")
    return charge(escape(text))


def _quoted_size(value: Any) -> int:
    text = text_of(value)
    return (3 if text.isascii() else 12) * len(text)  # %XX per byte, up to 4 bytes a character


def _urlencode(value: Any) -> str:
    check_time()
    if isinstance(value, str) or not isinstance(value, Iterable):
        ensure_chars(_quoted_size(value), "the URL-encoded text")
        return charge(filters.do_urlencode(value))
    pairs = bounded_items(value.items() if isinstance(value, dict) else value, "the query")
    size = sum(_quoted_size(key) + _quoted_size(item) + 2 for key, item in pairs)
    ensure_chars(size, "the URL-encoded text")
    return charge(filters.do_urlencode(pairs))


def _wordcount(value: Any) -> int:
    check_time()
    return sum(1 for _ in _WORD.finditer(text_of(value)))


@pass_eval_context
def _join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | int | None = None
) -> str:
    check_time()
    if attribute is not None:
        value = map(make_attrgetter(eval_ctx.environment, attribute), value)
    items = bounded_items(value, "the list to join")
    separator = text_of(d)
    size = sum(text_size(item) for item in items) + len(separator) * max(len(items) - 1, 0)
    if eval_ctx.autoescape:
        size *= 5  # every part escaped: '"' → "&#34;"
    ensure_chars(size, "the joined text")
    return charge(filters.do_join(eval_ctx, items, separator))


@pass_eval_context
def _replace(eval_ctx: EvalContext, s: Any, old: Any, new: Any, count: int | None = None) -> str:
    check_time()
    text, old_text, new_text = text_of(s), text_of(old), text_of(new)
    if eval_ctx.autoescape:
        new_text = str(escape(new_text))
    occurrences = len(text) + 1 if not old_text else text.count(old_text)
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    ensure_chars(
        len(text) + occurrences * max(len(new_text) - len(old_text), 0), "the replaced text"
    )
    return _built(s, filters.do_replace(eval_ctx, text, old_text, text_of(new), count))


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    check_time()
    text = text_of(value)
    ensure_chars(percent_size(text, kwargs or args), "the formatted text")
    return charge(filters.do_format(text, *args, **kwargs))


@pass_environment
def _sum(
    environment: Any, iterable: Iterable[Any], attribute: str | int | None = None, start: Any = 0
) -> Any:
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    items = bounded_items(iterable, "the list to add up")
    if not all(
        isinstance(item, int | float) and not isinstance(item, bool) for item in (start, *items)
    ):
        raise LimitExceeded("sum adds numbers only")
    return sum(items, start)


def _list(value: Any) -> list[Any]:
    check_time()
    return bounded_items(value, "the list")


def _on_items(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap Jinja's ``func`` so its value is a list of at most MAX_ITEMS items, made first."""
    index = 1 if getattr(func, "jinja_pass_arg", None) else 0

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        value = args[index]
        if not isinstance(value, str | dict):
            value = bounded_items(value, f"the list to {func.__name__.removeprefix('do_')}")
        return charge(func(*args[:index], value, *args[index + 1 :], **kwargs))

    return bounded


def _reverse(value: Any) -> Any:
    check_time()
    if isinstance(value, str):
        return charge(value[::-1])
    items = bounded_items(value, "the list to reverse")
    items.reverse()
    return items


def message_filters(jinja_filters: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """The filters of the message sandbox, built from Jinja's own (``jinja_filters``)."""
    chosen = {name: jinja_filters[name] for name in KEPT_FILTERS}
    chosen.update(
        capitalize=_on_text(filters.do_capitalize, case_mapped_size),
        lower=_on_text(filters.do_lower, case_mapped_size),
        upper=_on_text(filters.do_upper, case_mapped_size),
        title=_on_text(filters.do_title, _title_size),
        striptags=_on_text(filters.do_striptags, _stripped_size),
        trim=_on_text(filters.do_trim),
        truncate=_on_text(filters.do_truncate),
        string=_on_text(filters.soft_str),
        wordcount=_wordcount,
        e=_escape,
        escape=_escape,
        urlencode=_urlencode,
        join=_join,
        replace=_replace,
        format=_format,
        sum=_sum,
        list=_list,
        sort=_on_items(filters.do_sort),
        dictsort=_on_items(filters.do_dictsort),
        groupby=_on_items(filters.sync_do_groupby),
        reverse=_reverse,
    )
    return chosen
