"""Setting up a Mews connection in the admin (managers): tokens write-only, never shown again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from crm_messaging.ui.admin import ReadOnlyAdmin

from .models import MewsConnection, MewsRecord, MewsWebhook

SECRETS = ("client_token", "access_token", "webhook_token")


class MewsConnectionForm(forms.ModelForm):
    """Secrets are typed, never shown: empty keeps the stored one, a typed one replaces it."""

    class Meta:
        model = MewsConnection
        fields = (
            "name",
            "platform_url",
            "client_name",
            "enterprise_id",
            *SECRETS,
            "room_type",
            "board_type",
            "is_active",
            "pulled_until",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored = {name: str(getattr(self.instance, name, "") or "") for name in SECRETS}
        for name in SECRETS:
            self.initial.pop(name, None)
            field = self.fields[name]
            field.widget = forms.PasswordInput(render_value=False)
            field.required = False
            stored = (
                "A value is stored; leave empty to keep it."
                if self._stored[name]
                else "Nothing stored."
            )
            field.help_text = f"{stored} {field.help_text}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in SECRETS:
            if not cleaned.get(name):
                cleaned[name] = self._stored[name]
        return cleaned


@admin.register(MewsConnection)
class MewsConnectionAdmin(admin.ModelAdmin):
    form = MewsConnectionForm
    list_display = (
        "name",
        "enterprise_id",
        "is_active",
        "pulled_until",
        "last_pull_at",
        "last_error",
    )
    readonly_fields = ("last_pull_at", "last_error", "created_at")


@admin.register(MewsWebhook)
class MewsWebhookAdmin(ReadOnlyAdmin):
    list_display = ("connection", "received_at", "processed_at", "error")
    list_filter = ("connection",)


@admin.register(MewsRecord)
class MewsRecordAdmin(ReadOnlyAdmin):
    list_display = ("connection", "kind", "mews_id", "updated_utc", "applied_at", "error")
    list_filter = ("connection", "kind")
    search_fields = ("mews_id",)
