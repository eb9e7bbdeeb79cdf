"""Whole numbers read from untrusted text: a query parameter, a form field, a provider's echo.

``str.isdigit`` is no test for ``int``: it accepts "²" (which ``int`` refuses) and "٣" (which
``int`` reads as 3), and says nothing of length — a 30-digit id passes the check and then
overflows the database's bigint. ``whole_number`` accepts what a staff screen or an API writes:
ASCII digits only, at most ``MAX_DIGITS`` of them (every id fits a bigint).
"""

from __future__ import annotations

MAX_DIGITS = 18  # 10**18 - 1 < 2**63 - 1: any such number fits a bigint column


def whole_number(text: object) -> int | None:
    """The whole number ``text`` writes in 1–18 ASCII digits, else None."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_DIGITS:
        return None
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text)
