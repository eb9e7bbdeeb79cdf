"""PUT /api/v1/{guests,reservations,facility-bookings}/{source}:{external_id} and their batch
endpoints: create or update by the PMS's own ids, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_messaging.serializers import Pattern, Text
from guests.models import EXTERNAL_ID_MAX_LENGTH, SOURCE_PATTERN
from guests.services import (
    CREATED,
    facility_booking_upsert,
    guest_upsert,
    reservation_upsert,
)

from .models import ApiKey
from .problems import problem_exception_handler
from .scopes import Scope
from .serializers import (
    OUTCOMES,
    FacilityBookingIn,
    FacilityBookingOut,
    GuestIn,
    GuestOut,
    ReservationIn,
    ReservationOut,
    facility_booking_out,
    guest_out,
    reservation_out,
)
from .services import api_consent_source

KEY_PARAMETERS = [
    OpenApiParameter(
        "source",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="The system the id comes from (mews, opera …): lower-case letters, digits, . _ -",
        pattern=SOURCE_PATTERN.pattern,
    ),
    OpenApiParameter(
        "external_id",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="The record's id in that system.",
        pattern=rf"^[^/]{{1,{EXTERNAL_ID_MAX_LENGTH}}}$",
    ),
]


class Upsert:
    """One kind of record the API upserts: its input, its service and its answer."""

    def __init__(
        self,
        *,
        name: str,
        scope: str,
        serializer: type[serializers.Serializer],
        answer: type[serializers.Serializer],
        service: Callable[..., tuple[Any, str]],
        out: Callable[[Any, str], dict[str, Any]],
    ) -> None:
        self.name, self.scope, self.serializer, self.answer = name, scope, serializer, answer
        self.service, self.out = service, out

    def apply(self, request: Request, source: str, external_id: str, body: Any) -> tuple[Any, str]:
        """Validate ``body`` and upsert; raise DRF or Django validation errors, TransitionError."""
        incoming = self.serializer(data=body)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        extra: dict[str, Any] = {}
        if self.service is guest_upsert:
            assert isinstance(request.auth, ApiKey)
            extra["consent_source"] = api_consent_source(request.auth)
            if "consents" in data:
                data["consents"] = [dict(c) for c in data["consents"]]
            if data.get("greylist") is not None:
                data["greylist"] = dict(data["greylist"])
        return self.service(
            source=source, external_id=external_id, data=data, actor=request.user, **extra
        )


GUESTS = Upsert(
    name="guest",
    scope=Scope.GUESTS_WRITE,
    serializer=GuestIn,
    answer=GuestOut,
    service=guest_upsert,
    out=guest_out,
)
RESERVATIONS = Upsert(
    name="reservation",
    scope=Scope.RESERVATIONS_WRITE,
    serializer=ReservationIn,
    answer=ReservationOut,
    service=reservation_upsert,
    out=reservation_out,
)
FACILITY_BOOKINGS = Upsert(
    name="facility booking",
    scope=Scope.RESERVATIONS_WRITE,
    serializer=FacilityBookingIn,
    answer=FacilityBookingOut,
    service=facility_booking_upsert,
    out=facility_booking_out,
)


class UpsertView(APIView):
    kind: ClassVar[Upsert]

    @property
    def required_scopes(self) -> dict[str, str]:
        return {"PUT": self.kind.scope}

    def put(self, request: Request, source: str, external_id: str) -> Response:
        record, outcome = self.kind.apply(request, source, external_id, request.data)
        return Response(
            self.kind.out(record, outcome),
            status=status.HTTP_201_CREATED if outcome == CREATED else status.HTTP_200_OK,
        )


def _put_schema(kind: Upsert) -> Any:
    return extend_schema(
        operation_id=f"{kind.name.replace(' ', '_')}_upsert",
        summary=f"Create or update a {kind.name} by its external id",
        parameters=KEY_PARAMETERS,
        request=kind.serializer,
        responses={200: kind.answer, 201: kind.answer},
    )


class GuestUpsertView(UpsertView):
    kind = GUESTS

    @_put_schema(GUESTS)
    def put(self, request: Request, source: str, external_id: str) -> Response:
        return super().put(request, source, external_id)


class ReservationUpsertView(UpsertView):
    kind = RESERVATIONS

    @_put_schema(RESERVATIONS)
    def put(self, request: Request, source: str, external_id: str) -> Response:
        return super().put(request, source, external_id)


class FacilityBookingUpsertView(UpsertView):
    kind = FACILITY_BOOKINGS

    @_put_schema(FACILITY_BOOKINGS)
    def put(self, request: Request, source: str, external_id: str) -> Response:
        return super().put(request, source, external_id)


# --- batches -----------------------------------------------------------------------------------


class BatchRecord(serializers.Serializer):
    source = Pattern(SOURCE_PATTERN.pattern)
    external_id = Text(max_length=EXTERNAL_ID_MAX_LENGTH, trim_whitespace=False)
    data = serializers.DictField(help_text="The record's fields, as for its PUT.")


class BatchIn(serializers.Serializer):
    records = BatchRecord(many=True, allow_empty=False, max_length=settings.API_BATCH_MAX)


BATCH_OUTCOMES = (*OUTCOMES, "error")


class BatchResult(serializers.Serializer):
    index = serializers.IntegerField()
    source = serializers.CharField()
    external_id = serializers.CharField()
    status = serializers.IntegerField(help_text="What the record's own PUT would answer.")
    outcome = serializers.ChoiceField(choices=BATCH_OUTCOMES)
    id = serializers.IntegerField(allow_null=True)
    problem = serializers.DictField(allow_null=True, help_text="Problem details, on an error.")


class BatchAnswer(serializers.Serializer):
    results = BatchResult(many=True)


class BatchView(APIView):
    """Up to API_BATCH_MAX records, each in its own transaction: one refused record does not
    stop the others; the answer lists each record's result in order."""

    kind: ClassVar[Upsert]

    @property
    def required_scopes(self) -> dict[str, str]:
        return {"POST": self.kind.scope}

    def post(self, request: Request) -> Response:
        batch = BatchIn(data=request.data)
        batch.is_valid(raise_exception=True)
        results = []
        for index, record in enumerate(batch.validated_data["records"]):
            source, external_id = record["source"], record["external_id"]
            result: dict[str, Any] = {
                "index": index,
                "source": source,
                "external_id": external_id,
            }
            try:
                obj, outcome = self.kind.apply(request, source, external_id, record["data"])
            except (ValidationError, DjangoValidationError, APIException) as exc:
                answer = problem_exception_handler(exc, {"request": request, "view": self})
                assert answer is not None
                result.update(
                    status=answer.status_code, outcome="error", id=None, problem=answer.data
                )
            else:
                result.update(
                    status=201 if outcome == CREATED else 200,
                    outcome=outcome,
                    id=obj.pk,
                    problem=None,
                )
            results.append(result)
        return Response({"results": results})


def _batch_schema(kind: Upsert) -> Any:
    return extend_schema(
        operation_id=f"{kind.name.replace(' ', '_')}_batch",
        summary=f"Create or update up to {settings.API_BATCH_MAX} {kind.name}s",
        request=BatchIn,
        responses={200: BatchAnswer},
    )


class GuestBatchView(BatchView):
    kind = GUESTS

    @_batch_schema(GUESTS)
    def post(self, request: Request) -> Response:
        return super().post(request)


class ReservationBatchView(BatchView):
    kind = RESERVATIONS

    @_batch_schema(RESERVATIONS)
    def post(self, request: Request) -> Response:
        return super().post(request)


class FacilityBookingBatchView(BatchView):
    kind = FACILITY_BOOKINGS

    @_batch_schema(FACILITY_BOOKINGS)
    def post(self, request: Request) -> Response:
        return super().post(request)
