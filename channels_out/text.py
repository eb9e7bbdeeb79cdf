"""Text a message may carry: the characters a provider can take (R4), and plain text from
HTML, the automatic plain-text part of an e-mail (C8), shared by the e-mail backend and the
campaign previews."""

from __future__ import annotations

import re
from html.parser import HTMLParser

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
