"""The two Jinja2 environments staff templates run in, and the limits that keep them cheap (R5).

Both are :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` subclasses with
``StrictUndefined`` (an unknown placeholder is an error, never an empty string) and a
``finalize`` that prints ``None`` as nothing. ``TEXT_ENV`` (subject, SMS/Viber text, WhatsApp
variables, the note) does not escape; ``HTML_ENV`` escapes every value.

On top of Jinja's sandbox:

- attribute access is an allowlist: keys of the context's dicts, a few harmless string,
  dict and sequence methods, and ``loop``'s fields; ``str.format``/``format_map`` are refused;
- globals are only ``range`` (at most :data:`~.limits.MAX_RANGE` numbers) and ``dict``;
- the filters are a curated subset, each bounded in what it builds (:mod:`.filters`);
- every value a template builds is checked before it is built: ``*``, ``**``, ``+``, ``%``,
  ``~``, the string methods, the text of a block, macro or ``{% set %}``, and what is
  printed stay within :data:`~.limits.MAX_VALUE_CHARS` characters, :data:`~.limits.MAX_ITEMS` items or
  :data:`~.limits.MAX_INT_BITS`-bit numbers; and everything built counts against
  :data:`~.limits.MAX_BUILT_BYTES` per render, which bounds the memory a render can hold however
  it combines its steps (:mod:`.limits`);
- every loop iteration and every call checks the render budget: a deadline and at most
  :data:`~.limits.MAX_LOOP_ITERATIONS` iterations, so even a loop producing no output stops in time;
- only plain values (text, numbers, dates, and lists and dicts of them) can be printed or
  turned into text: never a function, loop, generator or object, whose repr tells where it
  lives (:mod:`.limits`).

Size, loop and time refusals raise :class:`~.limits.LimitExceeded` (and
:class:`~.limits.RenderTimeout`);
the others Jinja's own ``SecurityError``, which both are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import StrictUndefined
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.nodes import Concat, For, Node
from jinja2.runtime import LoopContext, Undefined, markup_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from .filters import message_filters
from .limits import (
    MAX_ITEMS,
    MAX_RANGE,
    LimitExceeded,
    bounded_items,
    case_mapped_size,
    charge,
    check_time,
    ensure_bits,
    ensure_chars,
    ensure_items,
    escaped_size,
    line_bound,
    percent_size,
    printed,
    text_size,
    tick,
)

__all__ = ["HTML_ENV", "TEXT_ENV", "MessageSandbox", "bounded_dict", "bounded_range"]

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
CASE_METHODS = frozenset({"capitalize", "casefold", "lower", "swapcase", "title", "upper"})
SPLIT_METHODS = frozenset({"split", "rsplit"})


# --- what operators, methods and globals may build ---------------------------------------------
def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        ensure_bits(left.bit_length() + right.bit_length())
        return
    for sequence, times in ((left, right), (right, left)):
        if isinstance(times, int) and not isinstance(sequence, int):
            if isinstance(sequence, str):
                ensure_chars(len(sequence) * max(times, 0), "the repeated text")
            elif isinstance(sequence, list | tuple):
                ensure_items(len(sequence) * max(times, 0), "the repeated list")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        ensure_bits(abs(base).bit_length() * exponent)


def _check_sum(left: Any, right: Any) -> None:
    if isinstance(left, str) and isinstance(right, str):
        markup = isinstance(left, Markup) or isinstance(right, Markup)  # the other is escaped
        size = escaped_size(left) + escaped_size(right) if markup else len(left) + len(right)
        ensure_chars(size, "the joined text")
    elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
        ensure_items(len(left) + len(right), "the joined list")


def _str_call(
    text: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any], bool]:
    """Refuse a string method that would build too much; return the arguments to call it with
    and whether the result is a capped split to check."""
    if name in CASE_METHODS:
        ensure_chars(case_mapped_size(text), f"the text of {name}()")
    elif name == "splitlines":
        ensure_items(line_bound(text), "the lines of the text")
    elif name in SPLIT_METHODS:
        separator = args[0] if args else kwargs.get("sep")
        most = args[1] if len(args) > 1 else kwargs.get("maxsplit", -1)
        if isinstance(most, int) and (most < 0 or most > MAX_ITEMS):
            # Split at most MAX_ITEMS times: one part more than that means too many.
            return (separator, MAX_ITEMS), {}, True
    return args, kwargs, False


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


def bounded_dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    """Return ``dict(*args, **kwargs)``, from at most MAX_ITEMS items."""
    if args and not isinstance(args[0], dict | list | tuple):
        args = (bounded_items(args[0], "the dict"), *args[1:])
    return charge(dict(*args, **kwargs))


# --- the environment ----------------------------------------------------------------------------
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


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, tightened for staff-written message templates (see the module doc)."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            finalize=printed,
            # Constant folding would run filters at compile time, outside any budget.
            optimized=False,
            auto_reload=False,
            cache_size=0,
        )
        self.globals = {"range": bounded_range, "dict": bounded_dict}
        self.filters = message_filters(self.filters)

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
        check_time()
        if isinstance(obj, Undefined):
            obj._fail_with_undefined_error()
        if not self.is_safe_callable(obj):
            raise SecurityError(f"a {type(obj).__name__} may not be called")
        owner = getattr(obj, "__self__", None)
        if not isinstance(owner, str):
            return context.call(obj, *args, **kwargs)
        args, kwargs, capped = _str_call(owner, obj.__name__, args, kwargs)
        result = context.call(obj, *args, **kwargs)
        if capped:
            ensure_items(len(result), "the split text")
        return result if result is owner else charge(result)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_time()
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "+":
            _check_sum(left, right)
        elif operator == "%" and isinstance(left, str):
            ensure_chars(percent_size(left, right), "the formatted text")
        result = self.binop_table[operator](left, right)
        return charge(result) if isinstance(result, str | list | tuple) else result

    # Hooks called by the generated code (see _GuardedCodeGenerator).
    def guard_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Yield from ``iterable``, counting each item against the render budget."""
        for item in iterable:
            tick()
            yield item

    def bounded_join(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        """Join the operands of ``~``, refusing a result beyond MAX_VALUE_CHARS before building it."""
        check_time()
        if join is markup_join and any(hasattr(part, "__html__") for part in parts):
            size = sum(5 * text_size(part) for part in parts)  # the others get escaped
        else:
            size = sum(text_size(part) for part in parts)
        ensure_chars(size, "the joined text")
        return charge(join(parts))

    def concat(self, parts: Iterable[str]) -> str:  # type: ignore[override]
        """Join the output of a block, macro or ``{% set %}`` body, refusing it when too long."""
        check_time()
        pieces = parts if isinstance(parts, list) else list(parts)
        ensure_chars(sum(map(len, pieces)), "the text of the block")
        return charge("".join(pieces))


TEXT_ENV = MessageSandbox(autoescape=False)
"""Subjects, SMS/Viber/WhatsApp text and the plain-text note: nothing is escaped."""
HTML_ENV = MessageSandbox(autoescape=True)
"""E-mail HTML: every printed value is HTML-escaped."""
