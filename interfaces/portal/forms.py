"""The guest's forms; they check shape only, the services decide (and refuse with PortalError)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guests.models import ContactChannel, Reservation

from .conf import CODE_DIGITS

CHANNEL_LABELS: dict[str, Any] = {
    ContactChannel.EMAIL: _("E-mail"),
    ContactChannel.SMS: _("SMS"),
    ContactChannel.WHATSAPP: _("WhatsApp"),
    ContactChannel.VIBER: _("Viber"),
}


def channel_label(channel: str) -> str:
    """The channel's name in the active language."""
    return str(CHANNEL_LABELS.get(channel, channel))


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=40,
        help_text=_(
            "The number you gave with your booking, with the country code, e.g. +44 7400 123456."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "autofocus": True}
        ),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
    )

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code):
            raise forms.ValidationError(_("Please enter the 6-digit code from the text message."))
        return code


class _PageForm(forms.Form):
    """A form on the guest's page, which holds several: its ids carry its own prefix."""

    id_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ContactForm(_PageForm):
    id_prefix = "contact"
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    language = forms.ChoiceField(label=_("Preferred language"), choices=settings.GUEST_LANGUAGES)


class ConsentForm(_PageForm):
    """Data-processing consent, marketing consent per channel and analytics consent (opens and
    clicks counted); the labels come from the wording."""

    id_prefix = "consent"

    data_processing = forms.BooleanField(required=False)
    analytics = forms.BooleanField(required=False)
    # Sent with the analytics box: a form without it (an older page) leaves analytics alone.
    analytics_asked = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)

    def __init__(self, *args: Any, channels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channels = channels
        for channel in channels:
            self.fields[f"marketing_{channel}"] = forms.BooleanField(
                required=False, label=CHANNEL_LABELS.get(channel, channel)
            )

    def marketing(self) -> dict[str, bool]:
        return {
            channel: bool(self.cleaned_data.get(f"marketing_{channel}"))
            for channel in self.channels
        }

    def analytics_choice(self) -> bool | None:
        """Ticked or not, or None when the form did not ask."""
        if not self.cleaned_data.get("analytics_asked"):
            return None
        return bool(self.cleaned_data.get("analytics"))

    def marketing_fields(self) -> list[forms.BoundField]:
        return [self[f"marketing_{channel}"] for channel in self.channels]


class CompanionForm(_PageForm):
    """A companion for one of ``stays`` (the signed-in guest's): the stay comes back as a hidden
    field, and a value that is not one of them (tampered, missing) is an error, never a 500."""

    id_prefix = "companion"

    reservation = forms.ModelChoiceField(
        queryset=Reservation.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This stay cannot be changed here."),
            "invalid_choice": _("This stay cannot be changed here."),
        },
    )
    first_name = forms.CharField(label=_("First name"), max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    phone = forms.CharField(label=_("Mobile phone (optional)"), max_length=40, required=False)

    def __init__(self, *args: Any, stays: QuerySet[Reservation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reservation"].queryset = stays  # type: ignore[attr-defined]

    def companion(self) -> dict[str, str]:
        """What the guest typed about the companion (the cleaned fields but the stay)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "reservation"}
