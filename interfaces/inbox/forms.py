"""Forms of the inbox screens: they check what staff typed; the services decide the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_messaging.ui.once import NonceField

from .models import QuickReply


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Guest, room, reservation no., text")}
        ),
    )


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Answer"),
        required=False,
        strip=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "true"}),
    )
    quick_reply = forms.ModelChoiceField(
        queryset=QuickReply.objects.filter(is_active=True),
        required=False,
        widget=forms.HiddenInput,
    )
    nonce = NonceField()


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only staff see notes; the guest never does."),
        error_messages={"required": _("Write the note.")},
    )


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        label=_("Assigned to"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Nobody"))] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in staff
        ]
        self.staff = {user.pk: user for user in staff}

    def assignee_user(self) -> Any:
        pk = self.cleaned_data.get("assignee")
        return self.staff.get(pk) if pk else None


class LinkGuestForm(forms.Form):
    guest = forms.IntegerField(widget=forms.HiddenInput)


class QuickReplyForm(forms.ModelForm):
    class Meta:
        model = QuickReply
        fields = ("title", "language", "body", "whatsapp_template_id", "position", "is_active")
        labels = {
            "title": _("Title"),
            "language": _("Language"),
            "body": _("Text"),
            "whatsapp_template_id": _("Approved WhatsApp template (content SID)"),
            "position": _("Position"),
            "is_active": _("In use"),
        }
        help_texts = {
            "body": _(
                "Placeholders: {first_name}, {last_name}, {room}, {arrival}, {departure}, {hotel}."
            ),
            "whatsapp_template_id": _(
                "With one, this answer may go on WhatsApp outside the 24-hour window."
            ),
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}
