"""Compiling a message variant once and rendering it for each recipient, within bounds (C8, R5).

A render either returns a complete :class:`Rendered` or raises :class:`RenderError` with a
reason a person can read; the caller skips that recipient with the reason and goes on.
"""

from __future__ import annotations

import hashlib
import json
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from django.utils.translation import gettext_noop
from jinja2 import Template, meta
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from markupsafe import escape

from channels_out.services.messages import MAX_HTML_BYTES, MAX_SUBJECT_CHARS
from channels_out.text import MAX_SMS_CHARS, html_to_text, unsendable_character
from crm_messaging.i18n import Phrase

from .keywords import UnknownKeyword, translate_keywords
from .limits import Budget, LimitExceeded, RenderTimeout, budget_scope, current_budget
from .sandbox import HTML_ENV, TEXT_ENV, MessageSandbox

if TYPE_CHECKING:
    from campaigns.models import MessageVariant

__all__ = [
    "LINE_BREAKS",
    "MAX_TEXT_CHARS",
    "MAX_WHATSAPP_VARIABLE_CHARS",
    "NOTE_MARKER",
    "RENDER_TIME_LIMIT",
    "CompiledVariant",
    "RenderError",
    "Rendered",
    "compile_cache_clear",
    "compile_cache_info",
    "compile_template",
    "compile_variant",
    "render_part",
]

RENDER_TIME_LIMIT = 0.2
"""Seconds one recipient's whole message (every part) may take to render."""
MAX_TEXT_CHARS = MAX_SMS_CHARS
MAX_WHATSAPP_VARIABLE_CHARS = 1024
LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
"""Every character ``str.splitlines`` breaks on; none may reach an e-mail subject."""
NOTE_MARKER = "<!-- note -->"
"""Where in the HTML the staff note goes; without it, before ``</body>`` or at the end."""


class RenderError(Exception):
    """A template could not be rendered (or compiled) for a recipient. ``why`` says why in no
    language (a Phrase; Jinja's own words stay inside it as a parameter), ``reason`` and
    ``message`` in English (the run's tally, logs, the API); ``phrase`` is the whole error in
    no language, for the message's stored skip, read by staff in their own."""

    def __init__(self, reason: Phrase | str, *, field: str = "", line: int | None = None) -> None:
        self.why = reason if isinstance(reason, Phrase) else Phrase(reason)
        self.reason, self.field, self.line = self.why.english(), field, line
        super().__init__(self.message)

    @property
    def phrase(self) -> Phrase:
        if not self.line:
            return self.why
        return Phrase(
            gettext_noop("%(reason)s (line %(line)s)"), {"reason": self.why, "line": self.line}
        )

    @property
    def message(self) -> str:
        return self.phrase.english()


@dataclass(frozen=True)
class Rendered:
    """One recipient's message, every part rendered."""

    subject: str
    text: str
    html: str
    whatsapp_variables: dict[str, str] = field(default_factory=dict)

    @property
    def email_text(self) -> str:
        """The e-mail's plain-text part: the text, or else the one the SMTP backend derives from the HTML."""
        if self.text or not self.html:
            return self.text
        return html_to_text(self.html)


@dataclass(frozen=True)
class _Kind:
    env: MessageSandbox
    limit: int
    in_bytes: bool = False
    refused: frozenset[str] = frozenset()
    refused_why: str = ""  # an English message id (a Phrase's)
    body: bool = True  # keeps line breaks and tabs (a subject or a variable does not)


KINDS: dict[str, _Kind] = {
    "subject": _Kind(
        TEXT_ENV,
        MAX_SUBJECT_CHARS,
        refused=LINE_BREAKS,
        refused_why=gettext_noop(
            "the subject contains a line break, which could inject e-mail headers"
        ),
        body=False,
    ),
    "text": _Kind(TEXT_ENV, MAX_TEXT_CHARS),
    "html": _Kind(HTML_ENV, MAX_HTML_BYTES, in_bytes=True),
    "note": _Kind(TEXT_ENV, MAX_TEXT_CHARS),
    "whatsapp": _Kind(
        TEXT_ENV,
        MAX_WHATSAPP_VARIABLE_CHARS,
        refused=frozenset("\n\r\t"),
        refused_why=gettext_noop(
            "a WhatsApp template variable may not contain line breaks or tabs"
        ),
        body=False,
    ),
}
"""What each part of a variant is rendered in, and its bounds."""


def compile_template(source: str, kind: str) -> Template:
    """Translate the keywords of ``source`` and compile it in the environment of ``kind``.

    Raise UnknownKeyword or jinja2.TemplateSyntaxError (with ``lineno``).
    """
    env = KINDS[kind].env
    code = env.compile(translate_keywords(source), name=kind, filename=_filename(kind))
    return env.template_class.from_code(env, code, env.make_globals(None), None)


def _filename(kind: str) -> str:
    return f"<{kind}>"


def render_part(
    template: Template, kind: str, context: Mapping[str, Any], *, field: str = ""
) -> str:
    """Render one part of a message within its bounds; raise RenderError.

    Output is streamed: the render stops as soon as it passes the size limit, and between
    chunks (as well as at every loop iteration and call) once the active budget's deadline
    has passed. Without an active budget, one of RENDER_TIME_LIMIT is used.
    """
    spec = KINDS[kind]
    field = field or kind
    too_long = (
        gettext_noop("the %(part)s is longer than %(limit)s bytes")
        if spec.in_bytes
        else gettext_noop("the %(part)s is longer than %(limit)s characters")
    )
    chunks: list[str] = []
    size = 0
    with _active_budget() as budget:
        stream = cast(Generator[str, None, None], template.generate(dict(context)))
        try:
            for chunk in stream:
                size += len(chunk.encode()) if spec.in_bytes else len(chunk)
                if size > spec.limit:
                    raise RenderError(
                        Phrase(too_long, {"part": _label(field), "limit": f"{spec.limit:,}"}),
                        field=field,
                    )
                budget.check()
                chunks.append(chunk)
        except RenderError:
            raise
        except Exception as exc:
            raise RenderError(
                _reason(exc), field=field, line=_template_line(exc, _filename(kind))
            ) from None
        finally:
            stream.close()
    output = "".join(chunks)
    if spec.refused and not spec.refused.isdisjoint(output):
        raise RenderError(Phrase(spec.refused_why), field=field)
    # What the sender would refuse for the whole batch is this recipient's render error.
    code = unsendable_character(output, body=spec.body)
    if code:
        raise RenderError(
            Phrase(
                gettext_noop("the %(part)s contains a character that cannot be sent (%(code)s)"),
                {"part": _label(field), "code": code},
            ),
            field=field,
        )
    return output


@contextmanager
def _active_budget() -> Iterator[Budget]:
    budget = current_budget()
    if budget is not None:
        yield budget
        return
    with budget_scope(Budget.starting_now(RENDER_TIME_LIMIT)) as budget:
        yield budget


# A message part's name in the middle of a sentence (English message ids).
_PART_LABELS = {
    "subject": gettext_noop("subject"),
    "text": gettext_noop("text"),
    "html": gettext_noop("HTML"),
    "note": gettext_noop("note"),
    "whatsapp": gettext_noop("WhatsApp variable"),
    "whatsapp_variables": gettext_noop("WhatsApp variable"),
}


def _label(field: str) -> Phrase | str:
    return Phrase(_PART_LABELS[field]) if field in _PART_LABELS else field


def _reason(exc: BaseException) -> Phrase | str:
    """Say why a render failed, without echoing objects the template reached; Jinja's and
    Python's own words are a parameter (they have no other language)."""
    if isinstance(exc, RenderTimeout):
        return Phrase(
            gettext_noop("the template took longer than %(ms)s ms to render"), {"ms": str(exc.ms)}
        )
    if isinstance(exc, LimitExceeded):
        return Phrase(
            gettext_noop("the template went past a limit: %(error)s"), {"error": str(exc)}
        )
    if isinstance(exc, SecurityError):
        return Phrase(
            gettext_noop("the template tried to use something it may not: %(error)s"),
            {"error": str(exc)},
        )
    if isinstance(exc, UndefinedError):
        if "'None'" in str(exc):
            return Phrase(
                gettext_noop(
                    "unknown placeholder: %(error)s (this recipient has no reservation or "
                    "booking to take it from)"
                ),
                {"error": str(exc.message)},
            )
        return Phrase(gettext_noop("unknown placeholder: %(error)s"), {"error": str(exc.message)})
    if isinstance(exc, TemplateError):
        return Phrase(gettext_noop("the template failed: %(error)s"), {"error": str(exc)})
    if isinstance(exc, RecursionError):
        return Phrase(gettext_noop("the template calls itself too deeply"))
    if isinstance(exc, MemoryError):
        return Phrase(gettext_noop("the template needs too much memory"))
    return Phrase(
        gettext_noop("the template failed: %(error)s"), {"error": f"{type(exc).__name__}: {exc}"}
    )


def _template_line(exc: BaseException, filename: str) -> int | None:
    """Return the template line of the innermost frame Jinja rewrote to point at ``filename``."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


# --- variants ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CompiledVariant:
    """A variant's templates, compiled once, rendered for any number of recipients."""

    language: str
    subject: Template | None = None
    text: Template | None = None
    html: Template | None = None
    note: Template | None = None
    whatsapp_variables: tuple[tuple[str, Template], ...] = ()
    # The context sections the templates read (guest, reservation, links …).
    names: frozenset[str] = frozenset()

    @property
    def uses_links(self) -> bool:
        """Whether a part shows one of the guest's own links (@UNSUBSCRIBE, @PORTAL …)."""
        return "links" in self.names

    def render(
        self, context: Mapping[str, Any], *, time_limit: float = RENDER_TIME_LIMIT
    ) -> Rendered:
        """Render every part for one recipient's ``context`` (see build_context); raise RenderError.

        The staff note (a plain-text template) goes on a new line after the text (or is the
        text, when there is no text and no HTML) and, escaped, as a paragraph into the HTML
        (see NOTE_MARKER). With HTML and
        no text, ``text`` stays empty: the e-mail backend derives the plain part from the HTML.
        """
        with budget_scope(Budget.starting_now(time_limit)):
            subject = self._part(self.subject, "subject", context)
            text = self._part(self.text, "text", context)
            html = self._part(self.html, "html", context)
            note = self._part(self.note, "note", context)
            if note and (self.text is not None or self.html is None):
                text = f"{text}\n{note}" if text else note
                if len(text) > MAX_TEXT_CHARS:
                    raise RenderError(
                        f"the text with the note is longer than {MAX_TEXT_CHARS:,} characters",
                        field="note",
                    )
            if note and self.html is not None:
                # The note is plain text: escaped like guest data, its line breaks kept.
                html = _insert_note(html, f"<p>{escape(note)}</p>".replace("\n", "<br>"))
                if len(html.encode()) > MAX_HTML_BYTES:
                    raise RenderError(
                        f"the HTML with the note is larger than {MAX_HTML_BYTES // 1024} KB",
                        field="note",
                    )
            variables = {
                key: render_part(template, "whatsapp", context, field="whatsapp_variables")
                for key, template in self.whatsapp_variables
            }
        return Rendered(subject=subject, text=text, html=html, whatsapp_variables=variables)

    @staticmethod
    def _part(
        template: Template | None, kind: str, context: Mapping[str, Any], *, field: str = ""
    ) -> str:
        return "" if template is None else render_part(template, kind, context, field=field or kind)


def _insert_note(html: str, paragraph: str) -> str:
    if NOTE_MARKER in html:
        return html.replace(NOTE_MARKER, paragraph, 1)
    end = html.lower().rfind("</body>")
    return f"{html[:end]}{paragraph}{html[end:]}" if end >= 0 else f"{html}{paragraph}"


def compile_variant(variant: MessageVariant) -> CompiledVariant:
    """Return ``variant`` compiled, from a small LRU cache when it was compiled before.

    The cache key is (pk, updated_at, digest of the sources), so a saved change, and even an
    unsaved edit of a loaded variant, compiles anew; unsaved variants are not cached.
    Raise RenderError (with the field and line) when a part does not compile.
    """
    if variant.pk is None:
        return compile_uncached(variant)
    key = (variant.pk, variant.updated_at, _digest(variant))
    return _CACHE.get_or_create(key, lambda: compile_uncached(variant))


def compile_uncached(variant: MessageVariant) -> CompiledVariant:
    names: set[str] = set()

    def part(source: str, kind: str, field: str) -> Template | None:
        if not source.strip():
            return None
        try:
            template = compile_template(source, kind)
            names.update(
                meta.find_undeclared_variables(KINDS[kind].env.parse(translate_keywords(source)))
            )
            return template
        except UnknownKeyword as exc:
            raise RenderError(exc.phrase, field=field) from None
        except TemplateSyntaxError as exc:
            raise RenderError(
                Phrase(
                    gettext_noop("the template does not compile: %(error)s"),
                    {"error": str(exc.message)},
                ),
                field=field,
                line=exc.lineno,
            ) from None

    variables = variant.whatsapp_variables or {}
    if not isinstance(variables, dict):
        raise RenderError(
            'the WhatsApp variables must be an object such as {"1": "@NAME"}',
            field="whatsapp_variables",
        )
    compiled_variables = []
    for key, value in variables.items():
        template = part(_variable_source(value), "whatsapp", "whatsapp_variables")
        if template is None:
            raise RenderError(
                Phrase(gettext_noop("WhatsApp variable %(key)s is empty"), {"key": str(key)}),
                field="whatsapp_variables",
            )
        compiled_variables.append((str(key), template))
    subject = part(variant.subject, "subject", "subject")
    text = part(variant.text, "text", "text")
    html = part(variant.html, "html", "html")
    note = part(variant.note, "note", "note")
    return CompiledVariant(
        language=variant.language,
        subject=subject,
        text=text,
        html=html,
        note=note,
        whatsapp_variables=tuple(compiled_variables),
        names=frozenset(names),
    )


def _variable_source(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RenderError(
            'a WhatsApp variable must be text, such as "@NAME"', field="whatsapp_variables"
        )
    return str(value)


def _digest(variant: MessageVariant) -> str:
    parts = [
        variant.language,
        variant.subject,
        variant.text,
        variant.html,
        variant.note,
        json.dumps(variant.whatsapp_variables, sort_keys=True, default=str),
    ]
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


# --- the compile cache ------------------------------------------------------------------------
class CacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int


class _LRUCache:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Any, CompiledVariant] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_create(self, key: Any, factory: Callable[[], CompiledVariant]) -> CompiledVariant:
        with self._lock:
            if key in self._items:
                self.hits += 1
                self._items.move_to_end(key)
                return self._items[key]
            self.misses += 1
        value = factory()  # outside the lock: compiling takes a while and may raise
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self.hits, self.misses, self.maxsize, len(self._items))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


_CACHE = _LRUCache(maxsize=128)


def compile_cache_info() -> CacheInfo:
    """Return the compile cache's hits, misses, maxsize and current size."""
    return _CACHE.info()


def compile_cache_clear() -> None:
    """Empty the compile cache and reset its counters."""
    _CACHE.clear()
