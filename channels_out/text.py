"""Text a message may carry, the one module for every rule about it:

- the characters a provider can take (R4), and those the database cannot store (what a
  provider or PMS sends us is cleaned of them once, ``storable``);
- how long a message may be, per channel: the one rule the sender refuses by and the live
  counter warns with before Send;
- how many SMS parts a text needs, split the way carriers do (what an SMS costs, K1);
- plain text from HTML, the automatic plain-text part of an e-mail (C8);
- secrets in a message's text: stored masked, sent in full (``seal``, ``unsealed``).

Shared by the sender, the backends, the editor's live counter and the campaign previews.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape as html_escape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote

from django.utils.translation import gettext_lazy

from crm_messaging.ops.redaction import MASK
from guests.models import ContactChannel

if TYPE_CHECKING:
    from .models import OutboundMessage

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------
# Characters, and plain text from HTML

# Control characters (C0, DEL, C1), Unicode line and paragraph separators and lone
# surrogates: an e-mail header cannot carry any of them (Python's e-mail package refuses the
# message, or a line break injects a header), and a lone surrogate cannot be encoded at all.
_NOT_IN_A_HEADER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# A body keeps its line breaks (\n, \r\n) and tabs; PostgreSQL cannot even store a NUL.
_NOT_IN_A_BODY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]|\r(?!\n)")


def first_unsendable(value: str, *, body: bool = False) -> tuple[int, str] | None:
    """Return where the first character of ``value`` no provider step can take is, and that
    character written as ``U+000B``; None when there is none.

    A ``body`` may hold line breaks (``\n``, ``\r\n``) and tabs; a header (a subject, a sender
    name, an address, a template variable) nothing but visible text and spaces.
    """
    found = (_NOT_IN_A_BODY if body else _NOT_IN_A_HEADER).search(value)
    return (found.start(), f"U+{ord(found.group()[0]):04X}") if found else None


def unsendable_character(value: str, *, body: bool = False) -> str | None:
    """The first character of ``value`` no provider step can take, as ``U+000B`` (see first_unsendable)."""
    found = first_unsendable(value, body=body)
    return found[1] if found else None


# What PostgreSQL cannot store in a text or jsonb value: NUL, and a lone surrogate (UTF-8 has
# no encoding for one; JSON's "\ud800" decodes to it).
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: _T) -> _T:
    """Return ``value`` with every string in it storable: NUL dropped, a lone surrogate
    replaced by U+FFFD (the replacement character), the rest kept as it came.

    Strings are looked for in dict keys and values, list and tuple items and dataclass fields
    (a frozen dataclass is copied); anything else (numbers, dates, None) is returned as is.
    What a provider or PMS sends us goes through this once, after its request proved where it
    came from and before anything of it is stored, so such a message is kept, not lost.
    """
    return cast(_T, _storable(value))


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        if _NOT_STORABLE.search(value) is None:
            return value
        return _NOT_STORABLE.sub(lambda c: "" if c.group() == "\x00" else "\ufffd", value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_storable(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value,
            **{
                f.name: _storable(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.init
            },
        )
    return value


def html_to_text(html: str) -> str:
    """Return a readable plain text of ``html``: blocks on their own lines, links as "text (URL)".

    Scripts, styles and the head are dropped and entities decoded; white space is read as
    HTML reads it (any run is one space), and the breaks around blocks never pile up.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = re.sub(r"\s+", " ", "".join(parser.parts))
    text = re.sub(
        rf"[\s{_LINE}{_PARAGRAPH}]*[{_LINE}{_PARAGRAPH}][\s{_LINE}{_PARAGRAPH}]*",
        lambda run: "\n\n" if _PARAGRAPH in run.group() else "\n",
        text,
    )
    return text.strip()


# Break marks the extractor leaves between blocks; html_to_text turns each run of them into
# one line break, or a blank line when a paragraph-like block is among them.
_LINE, _PARAGRAPH = "\x01", "\x02"


class _TextExtractor(HTMLParser):
    PARAGRAPHS = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "hr"}
    )
    LINES = frozenset({"br", "div", "tr", "li", "section", "article", "header", "footer"})
    HIDDEN = frozenset({"head", "script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._links: list[tuple[str, int]] = []  # (href, len(parts) when the <a> opened)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag in self.PARAGRAPHS:
            self.parts.append(_PARAGRAPH)
        elif tag in self.LINES:
            self.parts.append(_LINE)
        if tag == "li":
            self.parts.append("- ")
        elif tag == "td":
            self.parts.append(" ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in self.PARAGRAPHS:
            self.parts.append(_PARAGRAPH)
        elif tag in self.LINES:
            self.parts.append(_LINE)
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:]).strip()
            target = href.removeprefix("mailto:")
            if href and not href.startswith("#") and target != label:
                self.parts.append(f" ({target})" if label else target)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


# ---------------------------------------------------------------------------------------
# Length, per channel

MAX_SMS_CHARS = 1600  # 10+ parts: beyond this providers refuse or truncate
MAX_VIBER_CHARS = 1000
MAX_WHATSAPP_CHARS = 1600

TEXT_LIMITS = {
    ContactChannel.SMS: MAX_SMS_CHARS,
    ContactChannel.VIBER: MAX_VIBER_CHARS,
    ContactChannel.WHATSAPP: MAX_WHATSAPP_CHARS,
}
# Each language words "an SMS" / "a Viber" its own way.
_TOO_LONG = {
    ContactChannel.SMS: gettext_lazy(
        "An SMS message is at most %(limit)s characters; this one has %(length)s."
    ),
    ContactChannel.VIBER: gettext_lazy(
        "A Viber message is at most %(limit)s characters; this one has %(length)s."
    ),
    ContactChannel.WHATSAPP: gettext_lazy(
        "A WhatsApp message is at most %(limit)s characters; this one has %(length)s."
    ),
}


def text_too_long(channel: str, text: str) -> str:
    """The refusal of ``text`` as too long for ``channel`` (in the active language), or ""."""
    limit = TEXT_LIMITS.get(ContactChannel(channel)) if channel in ContactChannel.values else None
    if limit is None or len(text) <= limit:
        return ""
    return str(_TOO_LONG[ContactChannel(channel)] % {"limit": limit, "length": len(text)})


# ---------------------------------------------------------------------------------------
# SMS parts, split the way carriers do
#
# A text is sent as GSM-7 when every character is in the GSM 03.38 default
# alphabet (3GPP TS 23.038, section 6.2.1) or its extension table; otherwise the
# whole text is sent as UCS-2 (in practice UTF-16).
#
# * GSM-7: a basic character costs one septet, an extension character
#   (``^ { } \\ [ ~ ] | €`` and form feed) costs two, because it is sent as ESC
#   followed by the character.  A single part holds 160 septets; once a text
#   needs more, every part holds 153 (seven septets go to the concatenation
#   header).  An escape pair is never split: when a part has only one septet
#   left, the pair starts the next part and the septet stays unused.
# * UCS-2: a character costs one UTF-16 code unit, a character outside the
#   Basic Multilingual Plane (most emoji) costs two.  A single part holds 70
#   units, each part of a longer text 67.  A surrogate pair is never split: when
#   a part has only one unit left, the pair starts the next part.
#
# Characters are matched by code point exactly as given: nothing is normalised
# or transliterated, so a decomposed ``e`` + combining acute accent, a curly
# apostrophe or a non-breaking space forces UCS-2 just like any other character
# outside the table.
#
# The table is the one printed in TS 23.038, which shows a *capital* C with
# cedilla (``Ç``, U+00C7) at 0x09; the small ``ç`` is not in the default
# alphabet.  (The Unicode consortium's GSM0338.TXT mapping, and the libraries
# derived from it, map 0x09 to the small ``ç`` instead.)
#
# National language shift tables (TS 23.038 section 6.2.1.2.4, e.g. the Turkish
# ones that would add ``ş ğ ı İ``) are deliberately not applied: our providers do
# not use them, so any character outside the default alphabet and its extension
# table makes the whole text UCS-2.

_GSM7 = "GSM-7"
_UCS2 = "UCS-2"

_GSM7_SINGLE_PART = 160
_GSM7_MULTI_PART = 153
_UCS2_SINGLE_PART = 70
_UCS2_MULTI_PART = 67

_ESC = "\x1b"

# The 128 positions of the default alphabet, in code order, 16 per line.
# Position 0x1B is the escape to the extension table, not a character.
_GSM7_DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00-0x0F
    "\N{GREEK CAPITAL LETTER DELTA}_"
    "\N{GREEK CAPITAL LETTER PHI}\N{GREEK CAPITAL LETTER GAMMA}"
    "\N{GREEK CAPITAL LETTER LAMDA}\N{GREEK CAPITAL LETTER OMEGA}"
    "\N{GREEK CAPITAL LETTER PI}\N{GREEK CAPITAL LETTER PSI}"
    "\N{GREEK CAPITAL LETTER SIGMA}\N{GREEK CAPITAL LETTER THETA}"
    "\N{GREEK CAPITAL LETTER XI}" + _ESC + "ÆæßÉ"  # 0x10-0x1F
    " !\"#¤%&'()*+,-./"  # 0x20-0x2F
    "0123456789:;<=>?"  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNO"  # 0x40-0x4F
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50-0x5F
    "¿abcdefghijklmno"  # 0x60-0x6F
    "pqrstuvwxyzäöñüà"  # 0x70-0x7F
)
GSM7_BASIC: frozenset[str] = frozenset(_GSM7_DEFAULT_ALPHABET) - {_ESC}
"""Characters of the GSM 03.38 default alphabet; each costs one septet."""

GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
"""Characters of the GSM 03.38 extension table; each costs two septets (ESC + code)."""


@dataclass(frozen=True)
class SegmentInfo:
    """Describe how a text is encoded and split into SMS parts."""

    encoding: str
    """``"GSM-7"`` or ``"UCS-2"``."""
    units: int
    """GSM-7 septets (extension characters count 2) or UTF-16 code units (non-BMP count 2)."""
    parts: int
    """Number of SMS parts; 0 for an empty text."""
    per_part: int
    """Per-part capacity that applies: 160 or 153 for GSM-7, 70 or 67 for UCS-2."""
    remaining: int
    """Units still free in the last part before another part is needed."""
    ucs2_chars: tuple[str, ...]
    """Distinct characters that forced UCS-2, in order of first appearance; ``()`` for GSM-7."""

    @property
    def is_unicode(self) -> bool:
        """Return whether the text has to be sent as UCS-2."""
        return self.encoding == _UCS2


def count_segments(text: str) -> SegmentInfo:
    """Count the encoding units and SMS parts needed to send ``text``.

    Pick GSM-7 when every character is in :data:`GSM7_BASIC` or
    :data:`GSM7_EXTENSION`, otherwise UCS-2, and split the text into parts
    without ever separating an escape pair or a surrogate pair.
    """
    ucs2_chars = tuple(
        dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION)
    )
    if ucs2_chars:
        encoding = _UCS2
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single_part, multi_part = _UCS2_SINGLE_PART, _UCS2_MULTI_PART
    else:
        encoding = _GSM7
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        single_part, multi_part = _GSM7_SINGLE_PART, _GSM7_MULTI_PART

    units = sum(costs)
    if units <= single_part:
        return SegmentInfo(
            encoding=encoding,
            units=units,
            parts=1 if units else 0,
            per_part=single_part,
            remaining=single_part - units,
            ucs2_chars=ucs2_chars,
        )

    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi_part:
            parts += 1
            used = 0
        used += cost
    return SegmentInfo(
        encoding=encoding,
        units=units,
        parts=parts,
        per_part=multi_part,
        remaining=multi_part - used,
        ucs2_chars=ucs2_chars,
    )


# ---------------------------------------------------------------------------------------
# Secrets in message bodies: stored masked, sent in full — the one rule, for every reader.
#
# A message may carry secrets: a login code, the token of a sign-in, e-mail confirmation or
# unsubscribe link. Every staff role reads the send log (stay history, sent messages, CSV, the
# admin), so the log keeps each message with every secret replaced by ``MASK`` — ``Your code
# is ••••••`` — and every path that shows, exports or logs a body reads those stored fields
# and nothing else. The caller names the secrets when it queues the message
# (``message_send(secrets=…)``); headers whose value is a per-guest link (``SECRET_HEADERS``:
# ``List-Unsubscribe``) are masked whole.
#
# The full text is needed until the message has gone: the dispatcher hands it to the backend
# (``unsealed``), a Viber message's SMS fallback and an operator's resend are built from it.
# It is kept beside the masked fields, encrypted with ``FIELD_ENCRYPTION_KEY`` (``sealed``),
# and wiped once the message can no longer be sent (``services.messages.sealed_needed_no_more``).

SECRET_HEADERS = frozenset({"list-unsubscribe"})
# What the send log keeps masked; the rest of a message (address, channel, parts) is no secret.
CONTENT_FIELDS = ("subject", "body", "html_body", "headers", "template_variables", "fallback_plan")
MIN_SECRET_LENGTH = 4


def secret_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every way a secret may be written in a message (as is, URL-quoted, HTML-escaped), longest first.

    Raises ValueError for a secret shorter than ``MIN_SECRET_LENGTH``: masking it would mask
    ordinary words.
    """
    forms: set[str] = set()
    for secret in secrets:
        secret = str(secret)
        if not secret:
            continue
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError("A secret of fewer than 4 characters cannot be masked safely.")
        forms.update({secret, quote(secret, safe=""), html_escape(secret)})
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every secret in it replaced by ``MASK``."""
    return _mask(text, secret_forms(secrets))


def _mask(value: Any, forms: Sequence[str]) -> Any:
    if isinstance(value, str):
        for form in forms:
            value = value.replace(form, MASK)
        return value
    if isinstance(value, dict):
        return {key: _mask(item, forms) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item, forms) for item in value]
    return value


def seal(message: OutboundMessage, secrets: Iterable[str]) -> None:
    """Mask ``secrets`` (and secret headers) in the unsaved ``message``, keeping the full text sealed.

    A message with nothing secret in it is left as it is, with nothing sealed.
    """
    listed = [str(s) for s in secrets if s]
    forms = secret_forms(listed)
    full = {name: getattr(message, name) for name in CONTENT_FIELDS}
    masked = {name: _mask(value, forms) for name, value in full.items()}
    masked["headers"] = {
        name: MASK if name.lower() in SECRET_HEADERS else value
        for name, value in (masked["headers"] or {}).items()
    }
    if masked == full:
        return
    message.sealed = json.dumps({"content": full, "secrets": listed})
    for name, value in masked.items():
        setattr(message, name, value)


def unsealed(message: OutboundMessage) -> OutboundMessage:
    """Return ``message`` as it is to be sent: an unsaved copy with the full text, or itself.

    Only what sends reads this (the dispatcher, a fallback, a resend); the copy is never saved.
    """
    if not message.sealed:
        return message
    full = copy.copy(message)
    for name, value in json.loads(message.sealed)["content"].items():
        setattr(full, name, value)
    return full


def sealed_secrets(message: OutboundMessage) -> list[str]:
    """The secrets ``message`` was queued with (for the messages derived from it)."""
    return list(json.loads(message.sealed)["secrets"]) if message.sealed else []
