"""``{% email_preview_url html %}``: the address of a sandboxed frame showing an e-mail's HTML."""

from __future__ import annotations

from typing import Any

from django import template

from ..email_preview import email_preview_url as _email_preview_url

register = template.Library()


@register.simple_tag(takes_context=True)
def email_preview_url(context: Any, html: str) -> str:
    return _email_preview_url(html, user_id=context["request"].user.pk)
