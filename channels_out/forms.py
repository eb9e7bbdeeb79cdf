"""Forms of the sender layer: channel accounts with write-only secrets, credit orders."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy

from guests.models import ContactChannel

from .models import ChannelAccount, CreditOrder, EngagementTracking, MessagingPolicy
from .services.credits import MAX_ORDER_CREDITS

# Encrypted fields that are typed in but never shown back (S1).
SECRET_FIELDS = ("secret", "webhook_secret")
# A channel account's fields by section, in the order the admin shows them.
ACCOUNT_SECTIONS = {
    "identity": ("name", "channel", "backend", "is_active", "is_default"),
    "sender": ("sender", "sender_name"),
    "smtp": ("host", "port", "use_tls", "use_ssl", "username"),
    "http": ("account_id", "api_base_url", "region", "esp_stream", "engagement_tracking"),
    "secrets": SECRET_FIELDS,
    "behaviour": (
        "timeout_seconds",
        "rate_per_second",
        "ttl_seconds",
        "fallback_account",
        "opt_out_hint",
        "auto_reply",
        "staffed_from",
        "staffed_until",
    ),
}


def _secret_input() -> forms.CharField:
    return forms.CharField(
        required=False,
        # render_value=False: neither the stored value nor a rejected submission goes back
        # into the page; "new-password" keeps browsers from filling in a saved login.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class ChannelAccountForm(forms.ModelForm):
    """A provider account whose secrets are write-only.

    An empty secret keeps the stored one, a typed one replaces it, and the "remove" box
    next to it deletes it. The help text says whether a secret is stored; the stored value
    itself never reaches the form (not as a value, not as an initial value for change
    detection). ``ChannelAccount.clean`` runs on the result, so a required provider field
    (e.g. the Twilio auth token) is satisfied by a stored secret, and its errors appear next
    to the field they concern.
    """

    secret = _secret_input()
    clear_secret = forms.BooleanField(
        label=gettext_lazy("Remove the stored secret"), required=False
    )
    webhook_secret = _secret_input()
    clear_webhook_secret = forms.BooleanField(
        label=gettext_lazy("Remove the stored webhook secret"), required=False
    )

    class Meta:
        model = ChannelAccount
        fields = tuple(name for section in ACCOUNT_SECTIONS.values() for name in section)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored: dict[str, str] = {}
        for name in SECRET_FIELDS:
            # Read before construct_instance overwrites the instance with the submission.
            self._stored[name] = str(getattr(self.instance, name, None) or "")
            # No initial value: nothing to render, and has_changed() compares with "".
            self.initial.pop(name, None)
            model_field = ChannelAccount._meta.get_field(name)
            assert isinstance(model_field, models.Field)
            field = self.fields[name]
            field.label = capfirst(model_field.verbose_name)
            stored = (
                gettext(
                    "A secret is stored; leave empty to keep it, or type a new one to replace it."
                )
                if self._stored[name]
                else gettext("No secret is stored.")
            )
            field.help_text = f"{stored} {model_field.help_text}"
        # Only e-mail accounts track; the others keep the default without being asked.
        self.fields["engagement_tracking"].required = False

    def clean_engagement_tracking(self) -> str:
        return self.cleaned_data.get("engagement_tracking") or EngagementTracking.OURS

    def has_stored(self, name: str) -> bool:
        """Whether the account had a value for the secret field ``name`` when the form was made."""
        return bool(self._stored.get(name))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name in SECRET_FIELDS:
            typed = cleaned.get(name) or ""
            clear = bool(cleaned.get(f"clear_{name}")) and self.has_stored(name)
            if typed and clear:
                self.add_error(
                    f"clear_{name}",
                    gettext("Either type a new secret or remove the stored one, not both."),
                )
            elif not typed and not clear:
                cleaned[name] = self._stored[name]  # empty keeps; empty and ticked removes
        channel, is_default = cleaned.get("channel"), cleaned.get("is_default")
        if channel and is_default:
            other = (
                ChannelAccount.objects.filter(channel=channel, is_default=True)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if other is not None:
                self.add_error(
                    "is_default",
                    gettext(
                        "“%(name)s” is already the default %(channel)s account; make it not "
                        "the default first."
                    )
                    % {"name": other.name, "channel": ContactChannel(channel).label},
                )
        return cleaned

    def _update_errors(self, errors: ValidationError) -> None:
        # ChannelAccount.clean runs even on fields the form already refused; an empty backend
        # would also be reported as "Unknown backend “”". The form's own error says it.
        if hasattr(errors, "error_dict"):
            kept = {f: e for f, e in errors.error_dict.items() if f not in self.errors}
            if not kept:
                return
            errors = ValidationError(kept)
        super()._update_errors(errors)  # type: ignore[misc]


class CreditOrderForm(forms.ModelForm):
    """Order credits: the quantity and whom the invoice is made out to (the hotel unless
    said); the service prices and numbers the invoice."""

    credits = forms.DecimalField(
        label=gettext_lazy("Credits"),
        min_value=1,
        max_value=MAX_ORDER_CREDITS,
        decimal_places=0,
        help_text=gettext_lazy("A whole number of credits."),
    )

    class Meta:
        model = CreditOrder
        fields = ("credits", "buyer_name", "buyer_tax_id", "buyer_address", "buyer_email")
        labels = {
            "buyer_name": gettext_lazy("Invoice to"),
            "buyer_tax_id": gettext_lazy("Tax office and number"),
            "buyer_address": gettext_lazy("Billing address"),
            "buyer_email": gettext_lazy("Billing e-mail"),
        }
        help_texts = {
            "buyer_name": gettext_lazy("Empty: the hotel's name."),
            "buyer_address": gettext_lazy("Empty: the hotel's address."),
            "buyer_email": gettext_lazy("Empty: the hotel's e-mail."),
        }
        widgets = {"buyer_address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rate = MessagingPolicy.load().credits_per_eur
        self.fields["credits"].help_text = gettext(
            "A whole number of credits. The invoice is issued at 1 EUR = %(rate)s credits; "
            "the credits are added when it is marked paid."
        ) % {"rate": f"{rate.normalize():f}"}
