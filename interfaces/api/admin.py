"""API keys in the admin: made through the service (the key is shown once), revoked by an
action; nothing else about a key changes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from crm_messaging.ui.admin import ServiceBackedAdmin

from .forms import ApiKeyForm
from .models import ApiKey
from .services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceBackedAdmin):
    service_keeps_history = True
    form = ApiKeyForm
    list_display = ("name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    actions = ("revoke",)
    readonly_fields = (
        "name",
        "prefix",
        "scope_list",
        "user",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("name", "scopes") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the key's account stays the author of its writes

    def save_through_service(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> models.Model:
        key, raw = api_key_create(
            name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"], user=request.user
        )
        messages.warning(
            request,
            f"The key for {key.name} — copy it now, it is not shown again: {raw}",
        )
        return key

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key=key, user=request.user)
        messages.success(request, f"Revoked {queryset.count()} key(s).")
