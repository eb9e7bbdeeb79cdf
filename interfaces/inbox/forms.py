"""Forms of the inbox screens: they check what staff typed; the services decide the rest."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import QuickReply

NONCE = re.compile(r"[0-9a-f]{32}")


def new_nonce() -> str:
    """A fresh key for one rendering of the reply box; a resubmitted box carries the same one."""
    return uuid.uuid4().hex


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
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def clean_nonce(self) -> str:
        nonce = self.cleaned_data["nonce"]
        if not NONCE.fullmatch(nonce):
            raise forms.ValidationError(_("This form has expired; reload the page and send again."))
        return nonce


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
