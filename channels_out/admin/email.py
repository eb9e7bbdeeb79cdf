"""Suppressed addresses (cleared by an admin action through the service), soft-bounce runs,
engagements and SMS short links: records, read-only here."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm_messaging.ui.admin import ReadOnlyAdmin, admin_link

from ..models import Engagement, ShortLink, SoftBounceRun, Suppression
from ..services.suppression import suppression_clear
from .common import _run_service


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ("address", "reason", "provider_code", "created_at", "cleared_at", "cleared_by")
    list_filter = ("reason", ("cleared_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("cleared_by",)
    search_fields = ("address", "provider_code", "description")
    date_hierarchy = "created_at"
    readonly_fields = ("message_link",)
    actions = ("clear",)

    @admin.display(description="message")
    def message_link(self, suppression: Suppression) -> str:
        return admin_link(suppression.message)

    def has_clear_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("channels_out.clear_suppression")

    @admin.action(description="Clear the selected suppressions", permissions=("clear",))
    def clear(self, request: HttpRequest, queryset: QuerySet[Suppression]) -> None:
        _run_service(
            request,
            queryset.filter(cleared_at__isnull=True),
            suppression_clear,
            argument="suppression",
            done="cleared",
            noun="suppression",
        )


@admin.register(SoftBounceRun)
class SoftBounceRunAdmin(ReadOnlyAdmin):
    list_display = ("address", "count", "updated_at")
    search_fields = ("address",)


@admin.register(Engagement)
class EngagementAdmin(ReadOnlyAdmin):
    list_display = ("at", "message", "kind", "human", "source", "url")
    list_filter = ("kind", "human", "source", "at")
    list_select_related = ("message",)
    search_fields = ("message__to", "url")
    date_hierarchy = "at"


@admin.register(ShortLink)
class ShortLinkAdmin(ReadOnlyAdmin):
    """Which URL each SMS's short link leads to (the code itself is in the message's text)."""

    list_display = ("created_at", "message", "url")
    list_select_related = ("message",)
    search_fields = ("message__to", "url")
    date_hierarchy = "created_at"
    fields = ("message", "url", "created_at")
