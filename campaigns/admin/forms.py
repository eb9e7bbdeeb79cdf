"""Forms of the campaign admin: each refusal appears next to the field it concerns."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext

from channels_out.models import ChannelAccount
from guests.models import ConsentPurpose, ContactChannel, Guest, Reservation

from ..gallery import gallery_templates
from ..models import Campaign, CampaignStep, MessageVariant, StayChange
from ..models import campaign as definition
from ..rendering import validate_variant
from ..validation import definition_errors

# What a new marketing campaign starts with: only guests who opted in, never the greylisted.
MARKETING_DEFAULTS = ("require_channel_consent", "exclude_greylisted")
GENDERS = [(value, label) for value, label in Guest.Gender.choices if value]


class CampaignForm(forms.ModelForm):
    """The campaign's own fields, checked by ``definition_errors`` after the model's own checks.

    Every ``{field: message}`` of ``definition_errors`` is filed under its field, so "an hourly
    trigger on guests" shows next to the trigger, not above the form.
    """

    genders = forms.MultipleChoiceField(
        choices=GENDERS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any gender.",
    )
    languages = forms.MultipleChoiceField(
        choices=settings.GUEST_LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any language.",
    )
    reservation_statuses = forms.MultipleChoiceField(
        choices=Reservation.Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Reservations source only. None ticked: every stay not cancelled or a no-show.",
    )

    stay_changes = forms.MultipleChoiceField(
        choices=StayChange.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="“Reservation modified” only. None ticked: dates, room or number of guests.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A new marketing campaign asks for consent and leaves the greylist out unless told otherwise.
        given = kwargs.get("initial") or {}
        purpose = self.initial.get("purpose", self.instance.purpose)
        if self.instance.pk is None and purpose == ConsentPurpose.MARKETING:
            for name in MARKETING_DEFAULTS:
                if name not in given:
                    self.initial[name] = True

    # The sections both screens show (the admin's fieldsets, the campaign editor).
    BASICS = definition.BASIC_FIELDS
    TRIGGER = definition.TRIGGER_FIELDS
    STAY = definition.STAY_FILTERS
    GUEST = definition.GUEST_FILTERS
    FACILITY = definition.FACILITY_FILTERS

    class Meta:
        model = Campaign
        fields = definition.CAMPAIGN_FIELDS

    def campaign_fields(self) -> dict[str, Any]:
        """The campaign's validated fields for ``campaign_save`` (after ``is_valid``): as the
        form's cleaning put them on the campaign, the many-to-many filters as the rows chosen."""
        return {
            name: list(self.cleaned_data.get(name) or [])
            if name in definition.M2M_FILTERS
            else getattr(self.instance, name)
            for name in self._meta.fields or ()
            if name in self.fields  # not the admin's read-only displays
        }

    def _post_clean(self) -> None:
        # ModelForm's hook after the fields are clean (django-stubs leave it out): it builds
        # the instance and runs the model's own checks; the definition's rules follow.
        super()._post_clean()  # type: ignore[misc]
        errors = definition_errors(self.instance)
        if errors:
            if "valid_until" in errors:  # said next to the field, not as the database's rule name
                self._drop_constraint_error("campaign_validity_range_ordered")
            self.add_error(None, ValidationError(errors))

    def _drop_constraint_error(self, name: str) -> None:
        """Leave out the model's "Constraint “<name>” is violated." of a rule worded elsewhere."""
        general = self.errors.get(NON_FIELD_ERRORS)
        if general is None:
            return
        general.data[:] = [e for e in general.as_data() if name not in " ".join(e.messages)]
        if not general.data:
            del self.errors[NON_FIELD_ERRORS]


class CampaignStepForm(forms.ModelForm):
    """One channel of the delivery plan; its account must be an account of that channel."""

    class Meta:
        model = CampaignStep
        fields = ("position", "channel", "account")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "account" in self.fields:
            field = self.fields["account"]
            field.queryset = ChannelAccount.objects.order_by("channel", "name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        channel, account = cleaned.get("channel"), cleaned.get("account")
        if channel and account is not None and account.channel != channel:
            label = ContactChannel(channel).label
            self.add_error(
                "account",
                f"“{account.name}” is a {account.get_channel_display()} account; choose a {label} account "
                f"or leave it empty for the default {label} account.",
            )
        return cleaned


class MessageVariantForm(forms.ModelForm):
    """One language of the message; template errors appear under their field, with their line."""

    class Meta:
        model = MessageVariant
        fields = ("language", *definition.VARIANT_CONTENT)
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4, "cols": 80}),
            "html": forms.Textarea(attrs={"rows": 8, "cols": 80}),
            "whatsapp_variables": forms.Textarea(attrs={"rows": 2, "cols": 80}),
        }

    def clean_whatsapp_variables(self) -> Any:
        # An emptied box reads as JSON null; the column holds an object.
        value = self.cleaned_data.get("whatsapp_variables")
        return {} if value is None else value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned  # a missing language or malformed JSON first; the templates after
        draft = MessageVariant(
            language=cleaned.get("language") or "",
            subject=cleaned.get("subject") or "",
            html=cleaned.get("html") or "",
            text=cleaned.get("text") or "",
            whatsapp_content_sid=cleaned.get("whatsapp_content_sid") or "",
            whatsapp_variables=cleaned.get("whatsapp_variables") or {},
            note=cleaned.get("note") or "",
        )
        try:
            validate_variant(draft)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


class GalleryForm(forms.Form):
    """Choose a standard template to write into the selected campaigns' variants."""

    key = forms.ChoiceField(label="standard template")
    languages = forms.MultipleChoiceField(
        choices=settings.GUEST_LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every language the template is written in.",
    )
    overwrite = forms.BooleanField(
        required=False,
        label="replace existing languages",
        help_text="Otherwise a language the campaign already has is left as it is. Staff notes and "
        "WhatsApp templates are kept either way.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [  # type: ignore[attr-defined]
            (template.key, f"{gettext(template.title)} — {', '.join(template.languages)}")
            for template in gallery_templates()
        ]
