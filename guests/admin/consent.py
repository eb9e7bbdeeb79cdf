"""Consent statements (append-only) and their wordings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from crm_messaging.ui.admin import ServiceBackedAdmin

from .. import services
from ..models import (
    ConsentRecord,
    ConsentSource,
    ConsentWording,
    Reservation,
)
from .base import _staff

Status = Reservation.Status


# --- Consent -----------------------------------------------------------------------------------


class ConsentRecordForm(forms.ModelForm):
    """One new statement recorded by staff; the service fills in the source, time and author."""

    granted = forms.TypedChoiceField(
        choices=((True, "Granted"), (False, "Withdrawn")),
        coerce=lambda value: value in (True, "True"),
        widget=forms.RadioSelect,
        label="statement",
    )

    class Meta:
        model = ConsentRecord
        fields = ("guest", "purpose", "channel", "granted", "wording_version", "note")
        help_texts = {
            "channel": "Required for service and marketing consent; empty for data processing."
        }


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ServiceBackedAdmin):
    form = ConsentRecordForm
    list_display = (
        "guest",
        "purpose",
        "channel",
        "granted",
        "source",
        "wording_version",
        "recorded_at",
        "recorded_by",
    )
    list_filter = ("purpose", "channel", "granted", "source", "recorded_at")
    list_select_related = ("guest", "recorded_by")
    search_fields = (
        "guest__first_name",
        "guest__last_name",
        "guest__email",
        "guest__phone",
        "wording_version",
    )
    autocomplete_fields = ("guest",)
    date_hierarchy = "recorded_at"
    ordering = ("-recorded_at", "-pk")

    def get_fields(self, request: HttpRequest, obj: ConsentRecord | None = None) -> tuple[str, ...]:
        if obj is None:
            return ConsentRecordForm.Meta.fields
        return tuple(field.name for field in ConsentRecord._meta.fields if not field.primary_key)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # Append-only: a change is a new statement.

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_through_service(
        self, request: HttpRequest, obj: ConsentRecord, form: forms.ModelForm, change: bool
    ) -> ConsentRecord:
        data = form.cleaned_data
        return services.guest_record_consent(
            guest=data["guest"],
            purpose=data["purpose"],
            channel=data.get("channel", ""),
            granted=data["granted"],
            source=ConsentSource.STAFF,
            wording_version=data.get("wording_version", ""),
            note=data.get("note", ""),
            user=_staff(request),
        )


@admin.register(ConsentWording)
class ConsentWordingAdmin(admin.ModelAdmin):
    list_display = ("purpose", "version", "language", "published_at")
    list_filter = ("purpose", "language")
    search_fields = ("version", "text")
    date_hierarchy = "published_at"
    ordering = ("purpose", "-published_at", "language")
