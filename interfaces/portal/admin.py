"""The portal's records in the admin: read-only audit of login codes and e-mail confirmations."""

from __future__ import annotations

from django.contrib import admin

from crm_messaging.ui.admin import ReadOnlyAdmin

from .models import EmailConfirmation, LoginCode


@admin.register(LoginCode)
class LoginCodeAdmin(ReadOnlyAdmin):
    list_display = (
        "phone",
        "guest",
        "client_ip",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
        "used_via",
    )
    list_filter = ("used_via",)
    search_fields = ("phone", "client_ip", "guest__last_name")
    date_hierarchy = "created_at"
    # The hash stays out of sight: it is of no use to staff.
    fields = (
        "phone",
        "guest",
        "client_ip",
        "message",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
        "used_via",
    )
    raw_id_fields = ("guest", "message")


@admin.register(EmailConfirmation)
class EmailConfirmationAdmin(ReadOnlyAdmin):
    list_display = ("email", "guest", "created_at", "confirmed_at")
    search_fields = ("email", "guest__last_name")
    date_hierarchy = "created_at"
    raw_id_fields = ("guest", "message")
