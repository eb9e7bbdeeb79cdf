"""The two Jinja2 environments staff templates run in, and the limits that keep them cheap (R5).

Both are :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` subclasses with
``StrictUndefined`` (an unknown placeholder is an error, never an empty string) and a
``finalize`` that prints ``None`` as nothing. ``TEXT_ENV`` (subject, SMS/Viber text, WhatsApp
variables, the note) does not escape; ``HTML_ENV`` escapes every value.

On top of Jinja's sandbox:

- attribute access is an allowlist: keys of the context's dicts, a few harmless string,
  dict and sequence methods, and ``loop``'s fields; ``str.format``/``format_map`` are refused;
- globals are only ``range`` (at most :data:`MAX_RANGE` numbers) and ``dict``;
- the filters are a curated subset; the ones that can multiply a value's size
  (``join``, ``replace``, ``format``, ``sum``) check the size first;
- ``*``, ``**``, ``+``, ``%`` and ``~`` refuse results beyond :data:`MAX_VALUE_CHARS`
  characters or :data:`MAX_INT_BITS`-bit numbers before computing them;
- every loop iteration and every call checks the render budget: a deadline and at most
  :data:`MAX_LOOP_ITERATIONS` iterations, so even a loop producing no output stops in time;
- only text, numbers and plain lists/dicts can be printed: never a function, class or
  object, whose repr tells where it lives.

Size, loop and time refusals raise :class:`LimitExceeded` (and :class:`RenderTimeout`);
the others Jinja's own ``SecurityError``, which both are.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, filters, pass_environment, pass_eval_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter
from jinja2.nodes import Concat, EvalContext, For, Node
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape, soft_str

from channels_out.services.messages import MAX_HTML_BYTES

__all__ = [
    "HTML_ENV",
    "MAX_INT_BITS",
    "MAX_LOOP_ITERATIONS",
    "MAX_RANGE",
    "MAX_VALUE_CHARS",
    "TEXT_ENV",
    "Budget",
    "LimitExceeded",
    "MessageSandbox",
    "RenderTimeout",
    "budget_scope",
    "clock",
    "current_budget",
]

MAX_RANGE = 1000
"""``range()`` gives at most this many numbers."""
MAX_VALUE_CHARS = MAX_HTML_BYTES
"""No string or list a template builds may be longer than the largest message it can produce."""
MAX_INT_BITS = 4096
"""Numbers stay below 2**4096 (about 1233 digits)."""
MAX_LOOP_ITERATIONS = 100_000
"""Loop iterations allowed in one render, over all loops together."""

clock: Callable[[], float] = time.monotonic
"""The clock deadlines are measured on (replaced by tests)."""

# --- what a template may touch ----------------------------------------------------------------
STR_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
    }
)
DICT_METHODS = frozenset({"get", "items", "keys", "values"})
SEQUENCE_METHODS = frozenset({"count", "index"})
LOOP_ATTRIBUTES = frozenset(
    {
        "changed",
        "cycle",
        "depth",
        "depth0",
        "first",
        "index",
        "index0",
        "last",
        "length",
        "nextitem",
        "previtem",
        "revindex",
        "revindex0",
    }
)
SAFE_FILTERS = frozenset(
    {
        "abs",
        "attr",
        "capitalize",
        "count",
        "d",
        "default",
        "dictsort",
        "e",
        "escape",
        "first",
        "float",
        "groupby",
        "int",
        "items",
        "last",
        "length",
        "list",
        "lower",
        "map",
        "max",
        "min",
        "reject",
        "rejectattr",
        "reverse",
        "round",
        "select",
        "selectattr",
        "sort",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
    }
)
"""Jinja's own filters kept as they are; ``join``, ``replace``, ``format`` and ``sum`` are
replaced by bounded versions. Left out: ``safe`` (guest data is never trusted HTML),
``center``/``indent``/``wordwrap``/``batch``/``slice`` (their widths and counts inflate output),
``random``, ``pprint``, ``tojson``, ``urlize``, ``xmlattr``, ``filesizeformat``, ``forceescape``."""


class LimitExceeded(SecurityError):
    """A template tried to build something too big, loop too long or take too much time."""


class RenderTimeout(LimitExceeded):
    """The render ran past its deadline."""


# --- the render budget ------------------------------------------------------------------------
@dataclass
class Budget:
    """Time and loop iterations one render may use."""

    deadline: float
    seconds: float
    iterations: int = 0

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


_BUDGET: ContextVar[Budget | None] = ContextVar("campaigns_render_budget", default=None)


@contextmanager
def budget_scope(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the one every loop and call of templates rendered inside the block uses."""
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def current_budget() -> Budget | None:
    """Return the budget of the render in progress, if any."""
    return _BUDGET.get()


def _tick() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()


def _check_time() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.check()


# --- size checks ------------------------------------------------------------------------------
def _ensure_size(size: int, what: str) -> None:
    if size > MAX_VALUE_CHARS:
        raise LimitExceeded(
            f"{what} would be {size:,} long, more than the {MAX_VALUE_CHARS:,} allowed"
        )


def _ensure_bits(bits: int | float) -> None:
    if bits > MAX_INT_BITS:
        raise LimitExceeded(f"the number would be larger than 2**{MAX_INT_BITS}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _check_repeat(left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right):
        _ensure_bits(left.bit_length() + right.bit_length())
        return
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and _is_int(times):
            _ensure_size(len(sequence) * max(times, 0), "the repeated value")


def _check_power(base: Any, exponent: Any) -> None:
    if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1:
        _ensure_bits(abs(base).bit_length() * exponent)


def _check_sum(left: Any, right: Any) -> None:
    if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        _ensure_size(len(left) + len(right), "the joined value")


# A %-conversion: %[(key)][flags][width][.precision][length]type
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_MAX_FORMAT_WIDTH = 1000


def _check_percent_format(template: Any) -> None:
    if not isinstance(template, str):
        return
    for match in _PERCENT_SPEC.finditer(template):
        for number in match.groups():
            if number == "*" or (number and int(number) > _MAX_FORMAT_WIDTH):
                raise LimitExceeded(f"format widths above {_MAX_FORMAT_WIDTH} are not allowed")


def bounded_range(*args: int) -> range:
    """Return ``range(*args)``; raise LimitExceeded beyond MAX_RANGE numbers."""
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:
        count = MAX_RANGE + 1
    if count > MAX_RANGE:
        raise LimitExceeded(f"range() may give at most {MAX_RANGE} numbers")
    return numbers


# --- bounded filters --------------------------------------------------------------------------
@pass_eval_context
def _bounded_join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | int | None = None
) -> str:
    if attribute is not None:
        value = map(make_attrgetter(eval_ctx.environment, attribute), value)
    items = list(value)
    size = sum(len(soft_str(item)) for item in items) + len(soft_str(d)) * max(len(items) - 1, 0)
    _ensure_size(size, "the joined text")
    return filters.do_join(eval_ctx, items, d)


@pass_eval_context
def _bounded_replace(
    eval_ctx: EvalContext, s: str, old: str, new: str, count: int | None = None
) -> str:
    text, old_text, new_text = soft_str(s), soft_str(old), soft_str(new)
    if eval_ctx.autoescape:
        new_text = str(escape(new_text))
    occurrences = len(text) + 1 if not old_text else text.count(old_text)
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    _ensure_size(
        len(text) + occurrences * max(len(new_text) - len(old_text), 0), "the replaced text"
    )
    return filters.do_replace(eval_ctx, s, old, new, count)


def _bounded_format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_percent_format(value)
    for arg in (*args, *kwargs.values()):
        if isinstance(arg, str):
            _ensure_size(len(value) + len(arg), "the formatted text")
    return filters.do_format(value, *args, **kwargs)


@pass_environment
def _numeric_sum(
    environment: Any, iterable: Iterable[Any], attribute: str | int | None = None, start: Any = 0
) -> Any:
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    items = list(iterable)
    if not all(
        isinstance(item, int | float) and not isinstance(item, bool) for item in (start, *items)
    ):
        raise LimitExceeded("sum adds numbers only")
    return sum(items, start)


# --- the environment --------------------------------------------------------------------------
class _GuardedCodeGenerator(CodeGenerator):
    """Jinja's code generator with every loop's iterable and every ``~`` passed through the budget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop_iterables: set[int] = set()

    def visit_For(self, node: For, frame: Frame) -> None:
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit(self, node: Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) not in self._loop_iterables:
            return super().visit(node, *args, **kwargs)
        self.write("environment.guard_iter(")
        result = super().visit(node, *args, **kwargs)
        self.write(")")
        return result

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.bounded_join({join}, (")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))")


_PRINTABLE = (str, int, float, list, tuple, dict, Undefined)


def _finalize(value: Any) -> Any:
    """Print None as nothing; refuse anything but plain data (a function's or object's repr tells where it lives)."""
    if value is None:
        return ""
    if not isinstance(value, _PRINTABLE) or (callable(value) and not isinstance(value, Undefined)):
        raise SecurityError(f"a {type(value).__name__} cannot be printed, only text and numbers")
    return value


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, tightened for staff-written message templates (see the module doc)."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            finalize=_finalize,
            # Constant folding would run filters at compile time, outside any budget.
            optimized=False,
            auto_reload=False,
            cache_size=0,
        )
        self.globals = {"range": bounded_range, "dict": dict}
        self.filters = {name: self.filters[name] for name in SAFE_FILTERS}
        self.filters.update(
            join=_bounded_join, replace=_bounded_replace, format=_bounded_format, sum=_numeric_sum
        )

    # Attribute access: the allowlist.
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, LoopContext):
            return attr in LOOP_ATTRIBUTES
        if isinstance(obj, str):
            return attr in STR_METHODS
        if isinstance(obj, dict):
            return attr in DICT_METHODS
        if isinstance(obj, list | tuple):
            return attr in SEQUENCE_METHODS
        return False

    def wrap_str_format(self, value: Any) -> None:
        """Never hand out ``str.format``/``format_map``: they reach attributes by name."""
        return None

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _check_time()
        if isinstance(obj, Undefined):
            obj._fail_with_undefined_error()
        if not self.is_safe_callable(obj):
            raise SecurityError(f"a {type(obj).__name__} may not be called")
        return context.call(obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "+":
            _check_sum(left, right)
        elif operator == "%":
            _check_percent_format(left)
        return self.binop_table[operator](left, right)

    # Hooks called by the generated code (see _GuardedCodeGenerator).
    def guard_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Yield from ``iterable``, counting each item against the render budget."""
        for item in iterable:
            _tick()
            yield item

    def bounded_join(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        """Join the operands of ``~``, refusing a result beyond MAX_VALUE_CHARS."""
        _check_time()
        _ensure_size(sum(len(soft_str(part)) for part in parts), "the joined text")
        result = join(parts)
        _ensure_size(len(result), "the joined text")
        return result


TEXT_ENV = MessageSandbox(autoescape=False)
"""Subjects, SMS/Viber/WhatsApp text and the plain-text note: nothing is escaped."""
HTML_ENV = MessageSandbox(autoescape=True)
"""E-mail HTML: every printed value is HTML-escaped."""
