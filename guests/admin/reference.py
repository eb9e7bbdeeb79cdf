"""Reference lists, facilities, the hotel row and night audits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from crm_messaging.ui.admin import ReadOnlyAdmin

from ..models import (
    Agency,
    BoardType,
    Facility,
    FacilityType,
    Hotel,
    LoyaltyTier,
    MarketSegment,
    NightAudit,
    Reservation,
    RoomType,
    SourceChannel,
    StayType,
)

Status = Reservation.Status


# --- Reference lists ---------------------------------------------------------------------------


class ReferenceAdmin(admin.ModelAdmin):
    list_editable = ("is_active", "sort_order")
    search_fields = ("code", "name")
    ordering = ("sort_order", "name")


@admin.register(Agency)
class AgencyAdmin(ReferenceAdmin):
    list_display = ("name", "code", "kind", "is_active", "sort_order")
    list_filter = ("kind", "is_active")


@admin.register(MarketSegment, BoardType, RoomType, StayType)
class PlainReferenceAdmin(ReferenceAdmin):
    list_display = ("name", "code", "is_active", "sort_order")
    list_filter = ("is_active",)


@admin.register(SourceChannel)
class SourceChannelAdmin(ReferenceAdmin):
    list_display = ("name", "code", "is_ota", "is_active", "sort_order")
    list_filter = ("is_ota", "is_active")


@admin.register(LoyaltyTier)
class LoyaltyTierAdmin(ReferenceAdmin):
    list_display = ("name", "code", "rank", "is_active", "sort_order")
    list_filter = ("is_active",)
    ordering = ("rank", "sort_order")


@admin.register(FacilityType)
class FacilityTypeAdmin(ReferenceAdmin):
    list_display = ("name", "code", "kind", "is_active", "sort_order")
    list_filter = ("kind", "is_active")


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("name", "facility_type", "capacity", "is_active")
    list_editable = ("is_active",)
    list_filter = ("facility_type", "is_active")
    list_select_related = ("facility_type",)
    search_fields = ("name", "facility_type__name")
    ordering = ("facility_type__sort_order", "name")


# --- Hotel and night audit ---------------------------------------------------------------------


@admin.register(Hotel)
class HotelAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "business_date",
        "send_notifications_default",
        "auto_no_show_at_night_audit",
    )
    readonly_fields = ("business_date",)
    fieldsets = (
        (None, {"fields": ("name", "business_date")}),
        ("Contact", {"fields": ("address", "phone", "email", "website")}),
        ("House rules", {"fields": ("send_notifications_default", "auto_no_show_at_night_audit")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Hotel.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Hotel, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            obj.pk = 1  # Hotel.load() looks the hotel up by this id.
        super().save_model(request, obj, form, change)


@admin.register(NightAudit)
class NightAuditAdmin(ReadOnlyAdmin):
    list_display = (
        "business_date",
        "run_at",
        "run_by",
        "arrivals",
        "departures",
        "in_house",
        "no_shows",
        "overstays",
    )
    list_select_related = ("run_by",)
    date_hierarchy = "business_date"
    ordering = ("-business_date",)
