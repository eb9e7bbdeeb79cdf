"""Template filters of the marketing screens: stored keys and staff-only texts in words."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.translation import gettext

from campaigns.occurrences import occurrence_text

register = template.Library()
register.filter("occurrence_text", occurrence_text)


@register.filter
def translated(text: str) -> str:
    """A gallery template's English title or description in the active language (the
    catalogue holds them: fixtures/template_gallery/*.json are data, not source)."""
    return gettext(text) if text else text


@register.filter
def holds_reference_data(field: Any) -> bool:
    """Whether a bound field offers the hotel's own lists (agencies, room types …), whose
    names stay as the hotel entered them."""
    return isinstance(getattr(field, "field", None), forms.ModelMultipleChoiceField)
