"""Webhook endpoints through the REST API (I1, I2): /api/v1/webhooks/, scope ``webhooks:manage``.

The API app's defaults (settings ``REST_FRAMEWORK``) authenticate the key, check the scope
each view names in ``required_scopes``, throttle per key and answer errors as RFC 9457
problem details; the writes go through this app's services, attributed to the key's account.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_messaging.pagination import NewestFirstPages
from crm_messaging.serializers import Boolean, Choice, StrictSerializer, Text

from . import services
from .models import ATTEMPT_FIELDS, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint

SCOPE = "webhooks:manage"


def _events(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=Choice(choices=EventType.choices), min_length=1, max_length=10, **kwargs
    )


class EndpointIn(StrictSerializer):
    """An endpoint to register: its URL, the events it wants, a note (unknown fields refused)."""

    url = Text(max_length=500, help_text="Where events are POSTed (https).")
    events = _events()
    description = Text(max_length=200, required=False, allow_blank=True)


class EndpointChange(EndpointIn):
    """What to change of an endpoint; only the fields given change (unknown fields refused)."""

    url = Text(max_length=500, required=False)
    events = _events(required=False)
    active = Boolean(required=False, help_text="false stops deliveries; true starts them again.")


class EndpointOut(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active")
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "created_at",
        ]


class EndpointWithSecret(EndpointOut):
    secret = serializers.SerializerMethodField(
        help_text="whsec_…: signs every delivery; shown only in this answer."
    )

    class Meta(EndpointOut.Meta):
        fields = [*EndpointOut.Meta.fields, "secret"]

    def get_secret(self, endpoint: WebhookEndpoint) -> str:
        return str(self.context["secret"])


class AttemptOut(serializers.ModelSerializer):
    # Declared, so the schema is the same on SQLite and PostgreSQL (their integer ranges differ).
    status_code = serializers.IntegerField(min_value=0, max_value=32767, allow_null=True)
    latency_ms = serializers.IntegerField(min_value=0, max_value=2147483647)

    class Meta:
        model = WebhookAttempt
        fields = [*ATTEMPT_FIELDS, "succeeded", "manual"]


class DeliveryOut(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.event_id")
    type = serializers.ChoiceField(source="event.type", choices=EventType.choices)
    event = serializers.JSONField(source="event.payload", help_text="The body delivered.")
    log = AttemptOut(many=True, help_text="Every attempt, newest first.")
    attempts = serializers.IntegerField(min_value=0, max_value=2147483647)
    last_status_code = serializers.IntegerField(min_value=0, max_value=32767, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "type",
            "status",
            "attempts",
            "next_attempt_at",
            "retry_until",
            "delivered_at",
            "last_status_code",
            "last_error",
            "event",
            "log",
        ]


@extend_schema_view(
    get=extend_schema(
        operation_id="webhook_endpoints_list", summary="The webhook endpoints", tags=["webhooks"]
    ),
    post=extend_schema(
        operation_id="webhook_endpoint_create",
        summary="Register a webhook endpoint (its secret is in this answer only)",
        request=EndpointIn,
        responses={201: EndpointWithSecret},
        tags=["webhooks"],
    ),
)
class EndpointsView(generics.ListAPIView):
    required_scopes = {"GET": SCOPE, "POST": SCOPE}
    serializer_class = EndpointOut
    pagination_class = None

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.order_by("pk")

    def post(self, request: Request) -> Response:
        incoming = EndpointIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(user=request.user, **incoming.validated_data)
        return Response(
            EndpointWithSecret(endpoint, context={"secret": secret}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="webhook_endpoint_read", summary="A webhook endpoint", tags=["webhooks"]
    ),
    patch=extend_schema(
        operation_id="webhook_endpoint_change",
        summary="Change an endpoint's address, events or description; enable or disable it",
        request=EndpointChange,
        responses=EndpointOut,
        tags=["webhooks"],
    ),
    delete=extend_schema(
        operation_id="webhook_endpoint_delete",
        summary="Delete an endpoint with its deliveries",
        responses={204: None},
        tags=["webhooks"],
    ),
)
class EndpointView(generics.RetrieveAPIView):
    required_scopes = {"GET": SCOPE, "PATCH": SCOPE, "DELETE": SCOPE}
    serializer_class = EndpointOut
    queryset = WebhookEndpoint.objects.all()

    def patch(self, request: Request, pk: int) -> Response:
        endpoint = self.get_object()
        incoming = EndpointChange(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if {"url", "events", "description"} & set(data):
            endpoint = services.endpoint_update(
                endpoint=endpoint,
                url=data.get("url", endpoint.url),
                events=data.get("events", endpoint.events),
                description=data.get("description", endpoint.description),
                user=request.user,
            )
        if "active" in data and data["active"] != endpoint.is_active:
            change = services.endpoint_enable if data["active"] else services.endpoint_disable
            endpoint = change(endpoint=endpoint, user=request.user)
        endpoint.refresh_from_db()
        return Response(EndpointOut(endpoint).data)

    def delete(self, request: Request, pk: int) -> Response:
        services.endpoint_delete(endpoint=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecretView(APIView):
    required_scopes = {"POST": SCOPE}

    @extend_schema(
        operation_id="webhook_endpoint_secret_replace",
        summary="Replace an endpoint's secret at once (the new one is in this answer only)",
        request=None,
        responses=EndpointWithSecret,
        tags=["webhooks"],
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        secret = services.endpoint_secret_rotate(endpoint=endpoint, user=request.user)
        return Response(EndpointWithSecret(endpoint, context={"secret": secret}).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="webhook_deliveries_list",
        summary="An endpoint's deliveries with every attempt, newest first (cursor-paginated)",
        tags=["webhooks"],
    )
)
class DeliveriesView(generics.ListAPIView):
    required_scopes = {"GET": SCOPE}
    serializer_class = DeliveryOut
    pagination_class = NewestFirstPages

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        endpoint = get_object_or_404(WebhookEndpoint, pk=self.kwargs["pk"])
        return endpoint.deliveries.select_related("event").prefetch_related("log")


class RedeliverView(APIView):
    required_scopes = {"POST": SCOPE}

    @extend_schema(
        operation_id="webhook_delivery_redeliver",
        summary="Deliver an event again now, with the same event id",
        request=None,
        responses={202: DeliveryOut},
        tags=["webhooks"],
    )
    def post(self, request: Request, pk: int, delivery_pk: int) -> Response:
        delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, endpoint_id=pk)
        delivery = services.delivery_redeliver(delivery=delivery, user=request.user)
        fresh = WebhookDelivery.objects.select_related("event").get(pk=delivery.pk)
        return Response(DeliveryOut(fresh).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(exclude=True)
class NoSuchAddress(APIView):
    """Any other address under /api/v1/webhooks/ (an id that is no number): a problem-details
    404 like the rest of the API, never an HTML page."""

    required_scopes: dict[str, str] = {}

    def get(self, request: Request, **kwargs: Any) -> Response:
        raise NotFound("There is no such address in the API.")

    post = put = patch = delete = get
