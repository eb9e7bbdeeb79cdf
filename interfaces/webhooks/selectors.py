"""Reads of the webhooks app (I2)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import WebhookDelivery, WebhookEndpoint


def endpoints_disabled_for_failures() -> list[WebhookEndpoint]:
    """Endpoints the system disabled after 24 hours of failures (not those a manager stopped)."""
    return list(WebhookEndpoint.objects.filter(is_active=False).exclude(disabled_reason=""))


def endpoints_with_counts() -> QuerySet[WebhookEndpoint]:
    """Every endpoint with its pending, delivered and failed delivery counts."""
    status = WebhookDelivery.Status
    return WebhookEndpoint.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=status.PENDING)),
        delivered=Count("deliveries", filter=Q(deliveries__status=status.DELIVERED)),
        failed=Count("deliveries", filter=Q(deliveries__status=status.FAILED)),
    ).order_by("pk")


def endpoint_deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, with their event."""
    return endpoint.deliveries.select_related("event").order_by("-pk")
