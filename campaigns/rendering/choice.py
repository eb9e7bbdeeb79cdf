"""Which language variant a guest gets (C8)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from campaigns.models import MessageVariant

__all__ = ["choose_variant"]


def choose_variant(variants: Iterable[MessageVariant], language: str) -> MessageVariant | None:
    """Return the variant in ``language``, else in HOTEL_DEFAULT_LANGUAGE, else the first; None without any.

    "First" is by language code, then pk (the order MessageVariant lists in), so the choice
    does not depend on the order ``variants`` comes in. A regional code such as "de-AT"
    matches a "de" variant.
    """
    ordered = sorted(variants, key=lambda variant: (variant.language, variant.pk or 0))
    by_language: dict[str, MessageVariant] = {}
    for variant in ordered:
        by_language.setdefault(variant.language, variant)
    wanted = (language or "").lower().replace("_", "-")
    for code in (wanted, wanted.split("-")[0], settings.HOTEL_DEFAULT_LANGUAGE):
        if code in by_language:
            return by_language[code]
    return ordered[0] if ordered else None
