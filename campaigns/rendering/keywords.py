"""Elektraweb-style keywords (``Sayın @NAME @SURNAME``), translated to Jinja2 before compiling.

A keyword is ``@`` followed by capital letters or digits (starting with a letter), standing
at the start of the text or after a space or punctuation, and not followed by a letter,
digit or underscore: ``info@hotel.com``, ``INFO@HOTEL.COM`` and ``@Hotel`` are left alone.
Keywords are only read in the template's text, never inside ``{{ }}``, ``{% %}``, ``{# #}``
or a ``{% raw %}`` block. ``@@`` writes a literal ``@`` (``@@HOTELTR`` prints ``@HOTELTR``).
An ``@WORD`` that is not in :data:`KEYWORDS` is an error naming it.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_noop

from crm_messaging.i18n import Phrase

__all__ = ["KEYWORDS", "UnknownKeyword", "translate_keywords"]

KEYWORDS: dict[str, str] = {
    # the guest
    "@NAME": "guest.first_name",
    "@SURNAME": "guest.last_name",
    "@FULLNAME": "guest.full_name",
    "@TITLE": "guest.title",  # Mr/Ms, Bay/Bayan, Herr/Frau … from the gender; empty when unknown
    "@BIRTHDATE": "guest.birth_date",
    "@BALANCE": "guest.balance",
    # the stay
    "@RESNO": "reservation.number",
    "@ARRIVAL": "reservation.arrival",
    "@DEPARTURE": "reservation.departure",
    "@NIGHTS": "reservation.nights",
    "@ROOM": "reservation.room",
    "@ROOMTYPE": "reservation.room_type",
    "@BOARD": "reservation.board",
    "@ADULTS": "reservation.adults",
    "@CHILDREN": "reservation.children",
    # the spa / restaurant / event booking
    "@FACILITY": "facility.name",
    "@FACILITYTYPE": "facility.type",
    "@STARTDATE": "facility.date",
    "@STARTTIME": "facility.time",
    "@PARTY": "facility.party_size",
    # the hotel
    "@HOTEL": "hotel.name",
    "@HOTELPHONE": "hotel.phone",
    "@HOTELEMAIL": "hotel.email",
    "@HOTELWEB": "hotel.website",
    "@HOTELADDRESS": "hotel.address",
    # links the sender provides
    "@UNSUBSCRIBE": "links.unsubscribe",
    "@PORTAL": "links.portal",
    "@SURVEY": "links.survey",
}
"""Each keyword and the Jinja2 expression it stands for; ``@NAME`` is ``{{ guest.first_name }}``."""

_STRING = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\""""
# The parts of a template that are not its text: raw blocks, comments, {{ … }} and {% … %}
# (quotes inside a tag are skipped, so "}}" in a string does not end it).
_CODE = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}"
    r"|\{#.*?#\}"
    r"|\{\{(?:" + _STRING + r"|[^'\"}]|\}(?!\}))*\}\}"
    r"|\{%(?:" + _STRING + r"|[^'\"%]|%(?!\}))*%\}",
    re.DOTALL,
)
_KEYWORD = re.compile(r"(?<!\w)@(?:@|([A-Z][A-Z0-9]*)(?!\w))")


class UnknownKeyword(ValueError):
    """The template uses an ``@WORD`` that is not a keyword."""

    def __init__(self, keyword: str, line: int) -> None:
        self.keyword, self.line = keyword, line
        super().__init__(self.phrase.english())

    @property
    def phrase(self) -> Phrase:
        """The error in no language: ``str()`` of it reads in the active one."""
        return Phrase(
            gettext_noop("Unknown keyword %(keyword)s (line %(line)s). Known keywords: %(known)s."),
            {"keyword": self.keyword, "line": str(self.line), "known": ", ".join(sorted(KEYWORDS))},
        )


def translate_keywords(source: str) -> str:
    """Return ``source`` with every keyword in its text replaced by ``{{ expression }}``.

    Line numbers are kept (no keyword spans a line). Raise UnknownKeyword for an ``@WORD``
    that is not in KEYWORDS.
    """
    pieces: list[str] = []
    position = 0
    for code in _CODE.finditer(source):
        pieces.append(_translate_text(source, position, code.start()))
        pieces.append(code.group())
        position = code.end()
    pieces.append(_translate_text(source, position, len(source)))
    return "".join(pieces)


def _translate_text(source: str, start: int, end: int) -> str:
    def replace(match: re.Match[str]) -> str:
        word = match.group(1)
        if word is None:  # "@@": a literal "@"
            return "@"
        keyword = f"@{word}"
        if keyword not in KEYWORDS:
            raise UnknownKeyword(keyword, source.count("\n", 0, start + match.start()) + 1)
        return f"{{{{ {KEYWORDS[keyword]} }}}}"

    return _KEYWORD.sub(replace, source[start:end])
