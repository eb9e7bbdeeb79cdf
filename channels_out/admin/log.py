"""The send log, its delivery events and inbound messages: read-only records; operator decisions are actions."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from crm_messaging.ui.admin import ReadOnlyAdmin, ReadOnlyInline, admin_link

from ..models import (
    DeliveryEvent,
    InboundMessage,
    OutboundMessage,
)
from ..services import message_mark_sent, message_resend
from .common import _run_service


class DeliveryEventInline(ReadOnlyInline):
    model = DeliveryEvent
    fields = ("at", "status", "provider_status", "code", "description", "source", "applied", "by")
    show_change_link = False
    verbose_name_plural = "delivery events"
    select_related = ("by",)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "channel",
        "to",
        "guest_name",
        "status",
        "skip_reason",
        "credits",
        "parts",
        "source",
        "sent_by",
    )
    list_filter = ("status", "channel", "purpose", "skip_reason", "source", "account", "created_at")
    list_select_related = ("guest", "sent_by")
    search_fields = (
        "to",
        "body",
        "provider_message_id",
        "guest__first_name",
        "guest__last_name",
    )
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    actions = ("mark_sent", "resend")
    inlines = (DeliveryEventInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status",
                    "reason",
                    "skip_reason",
                    "provider_code",
                    "provider_message_id",
                    "attempts",
                )
            },
        ),
        (
            "Message",
            {
                "fields": (
                    "channel",
                    "purpose",
                    "account",
                    "backend",
                    "to",
                    "guest",
                    "reservation",
                    "facility_booking",
                    "origin_link",
                    "source",
                    "sent_by",
                    "dedupe_key",
                )
            },
        ),
        (
            "Content",
            {
                "fields": (
                    "language",
                    "subject",
                    "body",
                    "html_body",
                    "template_id",
                    "template_variables",
                    "headers",
                )
            },
        ),
        ("Cost", {"fields": ("segments", "encoding", "country", "credits")}),
        (
            "Fallback and resend",
            {
                "fields": (
                    "fallback_for",
                    "fallback_link",
                    "resend_of",
                    "resent_as_link",
                    "fallback_plan",
                )
            },
        ),
        (
            "Times",
            {
                "fields": (
                    "created_at",
                    "not_before",
                    "expires_at",
                    "claimed_at",
                    "sent_at",
                    "delivered_at",
                    "finished_at",
                    "updated_at",
                )
            },
        ),
    )
    readonly_fields = ("origin_link", "fallback_link", "resent_as_link")

    def has_operate_permission(self, request: HttpRequest) -> bool:
        # The log is never edited; deciding an unknown outcome needs the right to change it.
        return request.user.has_perm("channels_out.change_outboundmessage")

    @admin.display(description="guest", ordering="guest__last_name")
    def guest_name(self, message: OutboundMessage) -> str:
        return admin_link(message.guest, message.guest.full_name) if message.guest else "—"

    @admin.display(description="parts")
    def parts(self, message: OutboundMessage) -> str:
        if not message.segments:
            return "—"
        return f"{message.segments} × {message.encoding}" if message.encoding else "1"

    @admin.display(description="caused by")
    def origin_link(self, message: OutboundMessage) -> str:
        return admin_link(message.origin) if message.origin_type_id else "—"

    @admin.display(description="falls back to")
    def fallback_link(self, message: OutboundMessage) -> str:
        return admin_link(OutboundMessage.objects.filter(fallback_for=message).first())

    @admin.display(description="resent as")
    def resent_as_link(self, message: OutboundMessage) -> str:
        return admin_link(OutboundMessage.objects.filter(resend_of=message).first())

    @admin.action(description="Mark unknown outcomes as sent", permissions=("operate",))
    def mark_sent(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        _run_service(
            request,
            queryset,
            message_mark_sent,
            argument="message",
            done="marked sent",
            noun="message",
        )

    @admin.action(description="Resend unknown outcomes", permissions=("operate",))
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        _run_service(
            request,
            queryset,
            message_resend,
            argument="message",
            done="queued again",
            noun="message",
        )


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "message_link",
        "status",
        "provider_status",
        "code",
        "source",
        "applied",
        "by",
    )
    list_filter = ("status", "source", "applied", "at")
    list_select_related = ("message", "by")
    search_fields = ("message__to", "message__provider_message_id", "code", "description")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")

    @admin.display(description="message", ordering="message_id")
    def message_link(self, event: DeliveryEvent) -> str:
        return admin_link(event.message)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "channel",
        "account",
        "from_number",
        "guest_name",
        "keyword",
        "excerpt",
    )
    list_filter = ("channel", "keyword", "account", "received_at")
    list_select_related = ("account", "guest")
    search_fields = (
        "from_number",
        "body",
        "provider_message_id",
        "guest__first_name",
        "guest__last_name",
    )
    date_hierarchy = "received_at"
    ordering = ("-received_at", "-pk")

    @admin.display(description="guest", ordering="guest__last_name")
    def guest_name(self, inbound: InboundMessage) -> str:
        return admin_link(inbound.guest, inbound.guest.full_name) if inbound.guest else "—"

    @admin.display(description="text")
    def excerpt(self, inbound: InboundMessage) -> str:
        return Truncator(inbound.body).chars(60)
