"""Reply mailboxes (IMAP) for guests' e-mail replies; the password is write-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from ..models import ReplyMailbox


class ReplyMailboxForm(forms.ModelForm):
    """An empty password keeps the stored one; the stored one never reaches the page."""

    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the stored password.",
    )

    class Meta:
        model = ReplyMailbox
        fields = (
            "account",
            "host",
            "port",
            "use_ssl",
            "username",
            "password",
            "folder",
            "is_active",
            "timeout_seconds",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored = str(self.instance.password or "") if self.instance.pk else ""
        self.initial.pop("password", None)

    def clean_password(self) -> str:
        return self.cleaned_data.get("password") or self._stored


@admin.register(ReplyMailbox)
class ReplyMailboxAdmin(admin.ModelAdmin):
    form = ReplyMailboxForm
    list_display = ("__str__", "account", "is_active", "last_polled_at", "last_uid", "last_error")
    list_filter = ("is_active",)
    readonly_fields = ("uid_validity", "last_uid", "last_polled_at", "last_error", "created_at")
