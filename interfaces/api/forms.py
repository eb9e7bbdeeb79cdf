"""The form a manager makes an API key with (staff screen and admin)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import ApiKey
from .scopes import Scope


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        # "May" alone is also the month: the context keeps Turkish dates from reading "16 Yetkiler".
        label=pgettext_lazy("API key scopes", "May"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Give each integration only what it needs."),
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes")
        labels = {"name": _("Integration")}
        help_texts = {"name": _("Who uses the key, e.g. “Mews” or “Booking engine”.")}
