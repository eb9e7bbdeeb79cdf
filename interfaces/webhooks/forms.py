"""The endpoint form of the staff screens (the service checks the values again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("Where the events are POSTed, e.g. https://pms.example.com/hooks/crm"),
        widget=forms.URLInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
