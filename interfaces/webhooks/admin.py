"""Webhooks in the admin: endpoints (made through the service, secret shown once), the
events, and the deliveries with their attempts and a "redeliver" action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from crm_messaging.ui.admin import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceBackedAdmin,
    error_text,
)

from .models import (
    ATTEMPT_FIELDS,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .services import delivery_redeliver, endpoint_create, endpoint_update


class EndpointAdminForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceBackedAdmin):
    form = EndpointAdminForm
    service_keeps_history = True
    list_display = ["url", "description", "is_active", "failing_since", "disabled_at"]
    list_filter = ["is_active"]
    readonly_fields = [
        "is_active",
        "disabled_at",
        "disabled_reason",
        "failing_since",
        "created_by",
        "created_at",
    ]

    def save_through_service(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> WebhookEndpoint:
        data = {key: form.cleaned_data[key] for key in ("url", "description", "events")}
        if change:
            return endpoint_update(endpoint=obj, user=request.user, **data)
        endpoint, secret = endpoint_create(user=request.user, **data)
        messages.warning(
            request,
            f"The endpoint's secret, shown only this once — copy it into the receiving system now: {secret}",
        )
        return endpoint


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = [*ATTEMPT_FIELDS, "manual", "requested_by"]
    show_change_link = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    inlines = [AttemptInline]
    actions = ["redeliver"]

    @admin.action(description="Redeliver the selected deliveries now", permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        for delivery in queryset:
            try:
                delivery_redeliver(delivery=delivery, user=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{delivery}: {error_text(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request, f"{done} {'delivery' if done == 1 else 'deliveries'} on the way again."
            )

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhookendpoint")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "created_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]
    fields = ["event_id", "type", "cause", "payload", "created_at"]
