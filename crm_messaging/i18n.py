"""Wording shared by every screen: labels read in the middle of a sentence."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language

# Languages whose capital I/İ lower-case to ı/i (Python's str.lower turns İ into i + a combining dot).
_DOTTED_I_LANGUAGES = frozenset({"tr", "az"})


def lower_label(label: object) -> str:
    """Return ``label`` (a choice's label, possibly lazy) in lower case, as the active language
    writes it: "Cancelled" → "cancelled", "İptal edildi" → "iptal edildi"."""
    text = str(label)
    if (get_language() or "").split("-")[0] in _DOTTED_I_LANGUAGES:
        text = text.replace("İ", "i").replace("I", "ı")
    return text.lower()


def guest_language(code: str) -> str | None:
    """The guest language (``GUEST_LANGUAGES``) a language or culture code names — ``en-GB``,
    ``de_AT``, ``TR`` — or its name in that language (``Deutsch``); None when we have none."""
    known = dict(settings.GUEST_LANGUAGES)
    text = (code or "").strip()
    base = text.lower().replace("_", "-").split("-")[0]
    if base in known:
        return base
    by_name = {name.casefold(): key for key, name in known.items()}
    return by_name.get(text.casefold())
