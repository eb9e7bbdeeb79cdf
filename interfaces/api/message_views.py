"""POST/GET /api/v1/messages/, GET /api/v1/messages/{id}, GET /api/v1/credits."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_out.models import OutboundMessage
from channels_out.selectors import credit_balance, with_credits
from crm_messaging.pagination import NewestFirstPages
from guests.selectors import guest_by_external_id, reservation_by_external_id

from .message_serializers import CreditsOut, MessageFilter, MessageIn, MessageOut
from .messaging import IdempotencyMismatch, api_message_send
from .models import ApiKey
from .scopes import Scope

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="1–100 visible ASCII characters (no spaces), unique per message — a UUID does "
    "well: a retry with the same key answers 200 with the message the first request made, and "
    "sends nothing again.",
    pattern=r"^[\x21-\x7e]{1,100}$",
)


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request."
    default_code = "idempotency_key_reused"


def _messages() -> QuerySet[OutboundMessage]:
    return with_credits(
        OutboundMessage.objects.select_related("fallback").prefetch_related("events")
    )


def _external(finder: Any, value: str) -> Any:
    source, _sep, external_id = value.partition(":")
    return finder(source=source, external_id=external_id)


@extend_schema_view(
    get=extend_schema(
        operation_id="messages_list",
        summary="List messages, newest first (cursor-paginated)",
        parameters=[MessageFilter],
    ),
    post=extend_schema(
        operation_id="message_send",
        summary="Send one message (consent, quiet hours, credits apply)",
        parameters=[IDEMPOTENCY_HEADER],
        request=MessageIn,
        responses={201: MessageOut, 200: MessageOut},
    ),
)
class MessagesView(generics.ListAPIView):
    required_scopes = {"GET": Scope.MESSAGES_READ, "POST": Scope.MESSAGES_SEND}
    serializer_class = MessageOut
    pagination_class = NewestFirstPages

    def get_queryset(self) -> QuerySet[OutboundMessage]:
        allowed = {
            *MessageFilter().fields,
            NewestFirstPages.cursor_query_param,
            NewestFirstPages.page_size_query_param,
        }
        unknown = sorted(set(self.request.query_params) - allowed)
        if unknown:  # a misspelt filter would otherwise list everything
            raise DrfValidationError({name: ["Unknown query parameter."] for name in unknown})
        query = MessageFilter(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        messages = _messages()
        for field in ("status", "channel", "purpose"):
            if field in wanted:
                messages = messages.filter(**{field: wanted[field]})
        if "guest" in wanted:
            guest = _external(guest_by_external_id, wanted["guest"])
            messages = messages.filter(guest=guest) if guest else messages.none()
        if "reservation" in wanted:
            stay = _external(reservation_by_external_id, wanted["reservation"])
            messages = messages.filter(reservation=stay) if stay else messages.none()
        if "created_after" in wanted:
            messages = messages.filter(created_at__gte=wanted["created_after"])
        if "created_before" in wanted:
            messages = messages.filter(created_at__lt=wanted["created_before"])
        if wanted.get("mine"):
            assert isinstance(self.request.auth, ApiKey)
            messages = messages.filter(sent_by=self.request.auth.user)
        return messages

    def post(self, request: Request) -> Response:
        assert isinstance(request.auth, ApiKey)
        idempotency_key = request.headers.get("Idempotency-Key", "")
        if idempotency_key and (
            len(idempotency_key) > 100 or not all("\x21" <= c <= "\x7e" for c in idempotency_key)
        ):
            raise DrfValidationError(
                {
                    "Idempotency-Key": [
                        "Use 1–100 visible ASCII characters, no spaces (a UUID does)."
                    ]
                }
            )
        incoming = MessageIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            sent = api_message_send(
                key=request.auth,
                data=dict(incoming.validated_data),
                idempotency_key=idempotency_key,
            )
        except IdempotencyMismatch:
            raise IdempotencyKeyReused() from None
        message = _messages().get(pk=sent.message.pk)
        return Response(
            MessageOut(message).data,
            status=status.HTTP_200_OK if sent.replayed else status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(operation_id="message_read", summary="A message: status, events, cost")
)
class MessageDetailView(generics.RetrieveAPIView):
    required_scopes = {"GET": Scope.MESSAGES_READ}
    serializer_class = MessageOut

    def get_queryset(self) -> QuerySet[OutboundMessage]:
        return _messages()


class CreditsView(APIView):
    required_scopes = {"GET": Scope.MESSAGES_READ}

    @extend_schema(operation_id="credits_read", summary="The credit balance", responses=CreditsOut)
    def get(self, request: Request) -> Response:
        balance = credit_balance()
        return Response(
            CreditsOut(
                {
                    "available": balance.available,
                    "reserved": balance.reserved,
                    "low_balance_threshold": balance.threshold,
                    "is_low": balance.is_low,
                }
            ).data
        )
