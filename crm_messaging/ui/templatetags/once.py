"""``{% once_field %}``: the hidden key that makes a staff form do its work once (ui/once.py)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm_messaging.ui.once import FIELD, new_nonce

register = template.Library()


@register.simple_tag
def once_field() -> SafeString:
    """A fresh key each time the form is shown."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_nonce())
