"""Channel accounts (secrets write-only, ``ChannelAccountForm``) and the house rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from ..forms import ACCOUNT_SECTIONS, SECRET_FIELDS, ChannelAccountForm
from ..models import (
    ChannelAccount,
    MessagingPolicy,
)
from ..services import messages_retime_quiet_hours


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    form = ChannelAccountForm
    list_display = (
        "name",
        "channel",
        "backend",
        "sender",
        "is_default",
        "is_active",
        "rate_per_second",
    )
    list_filter = ("channel", "backend", "is_active", "is_default")
    search_fields = ("name", "sender", "host", "username", "account_id")
    ordering = ("channel", "name")
    readonly_fields = ("created_at", "updated_at")

    def get_fieldsets(self, request: HttpRequest, obj: ChannelAccount | None = None) -> list[Any]:
        secrets: list[str] = []
        for name in SECRET_FIELDS:
            secrets.append(name)
            if obj is not None and getattr(obj, name):
                secrets.append(f"clear_{name}")  # nothing to remove otherwise
        fieldsets: list[Any] = [
            (None, {"fields": ACCOUNT_SECTIONS["identity"]}),
            (
                "Sender",
                {
                    "fields": ACCOUNT_SECTIONS["sender"],
                    "description": "Who the guest sees the message come from.",
                },
            ),
            (
                "SMTP server",
                {
                    "fields": ACCOUNT_SECTIONS["smtp"],
                    "description": "E-mail accounts on the SMTP backend only. The password goes "
                    "under Secrets.",
                },
            ),
            (
                "HTTP provider",
                {
                    "fields": ACCOUNT_SECTIONS["http"],
                    "description": "SMS, WhatsApp and Viber providers (Twilio, Vonage).",
                },
            ),
            (
                "Secrets",
                {
                    "fields": tuple(secrets),
                    "description": "Write-only: a stored secret is never shown again.",
                },
            ),
            (
                "Behaviour and Viber",
                {"fields": ACCOUNT_SECTIONS["behaviour"]},
            ),
        ]
        if obj is not None:
            fieldsets.append(("Record", {"fields": ("created_at", "updated_at")}))
        return fieldsets


@admin.register(MessagingPolicy)
class MessagingPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "sms_notifications_enabled",
        "viber_first",
        "frequency_cap_count",
        "frequency_cap_days",
        "credits_per_eur",
        "low_balance_threshold",
    )
    fieldsets = (
        ("Switches", {"fields": ("sms_notifications_enabled", "viber_first")}),
        (
            "Quiet hours (guest's local time)",
            {
                "fields": (
                    ("quiet_start_service", "quiet_end_service"),
                    ("quiet_start_marketing", "quiet_end_marketing"),
                ),
                "description": "Messages due in the window wait for its end. Leave a pair "
                "empty for no quiet hours.",
            },
        ),
        ("Marketing frequency cap", {"fields": ("frequency_cap_count", "frequency_cap_days")}),
        ("Credits", {"fields": ("credits_per_eur", "low_balance_threshold")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not MessagingPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: MessagingPolicy, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            obj.pk = 1  # MessagingPolicy.load() looks the row up by this id.
        super().save_model(request, obj, form, change)
        if any(name.startswith("quiet_") for name in form.changed_data):
            messages_retime_quiet_hours(house=obj)  # waiting messages follow the new hours
