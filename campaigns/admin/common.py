"""Helpers shared by the campaign admin pages: links, wording, the next occurrence and its forecast."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html


def text_of(error: ValidationError) -> str:
    return " ".join(error.messages)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def credits(value: Decimal | None) -> str:
    """Credits as staff read them: 1,250 or 12.50."""
    if value is None:
        return "—"
    return f"{value.quantize(Decimal('0.01')):,}".removesuffix(".00")


def link(obj: models.Model | None, text: object = None) -> str:
    """A link to ``obj``'s admin page, or its plain text when it has none."""
    if obj is None or obj.pk is None:
        return "—"
    label = obj if text is None else text
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return format_html("{}", label)
    return format_html('<a href="{}">{}</a>', url, label)


