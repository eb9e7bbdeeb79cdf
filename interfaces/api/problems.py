"""RFC 9457 problem details for every error the API answers.

One shape: ``type`` (a URI naming the kind of problem), ``title``, ``status``, ``detail``,
``instance`` (the request's path) and, for invalid input, ``errors`` — one entry per field
problem with a JSON pointer into the request body (``/arrival``, ``/consents/0/channel``).
Django's own ValidationError from the services becomes a 400 with field errors; a
TransitionError (a reservation move the front desk could not make) a 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from guests.services import TransitionError

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://hotel-crm.example/problems/"

# status → (type slug, title)
_KINDS = {
    400: ("invalid-request", "Your request is not valid."),
    401: ("unauthenticated", "A valid API key is needed."),
    403: ("forbidden", "This API key may not do this."),
    404: ("not-found", "There is nothing here."),
    405: ("method-not-allowed", "This method is not allowed here."),
    406: ("not-acceptable", "No acceptable representation."),
    409: ("conflict", "The request conflicts with the record's state."),
    413: ("too-large", "The request is too large."),
    415: ("unsupported-media-type", "Send JSON (application/json)."),
    422: ("unprocessable", "The request cannot be processed."),
    429: ("too-many-requests", "Too many requests for this API key."),
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the record's state."
    default_code = "conflict"


def problem(
    status_code: int,
    *,
    detail: str,
    instance: str = "",
    errors: list[dict[str, str]] | None = None,
    kind: str = "",
) -> dict[str, Any]:
    """The body of a problem response."""
    slug, title = _KINDS.get(status_code, ("error", "Error."))
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or slug),
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


def _pointer(path: list[str]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path) if path else ""


def field_errors(details: Any, path: list[str] | None = None) -> list[dict[str, str]]:
    """Flatten DRF's nested error details into ``[{pointer, detail, code}]``."""
    path = path or []
    found: list[dict[str, str]] = []
    if isinstance(details, dict):
        if set(details) == {"message", "code"} and isinstance(details["message"], str):
            return [
                {"pointer": _pointer(path), "detail": details["message"], "code": details["code"]}
            ]
        for name, value in details.items():
            inner = path if name == "non_field_errors" else [*path, str(name)]
            found.extend(field_errors(value, inner))
    elif isinstance(details, list):
        simple = all(isinstance(item, dict) and "message" in item for item in details)
        for index, item in enumerate(details):
            found.extend(field_errors(item, path if simple else [*path, str(index)]))
    return found


def _django_to_drf(exc: Exception) -> Exception:
    if isinstance(exc, TransitionError):
        return Conflict(" ".join(str(m) for m in exc.messages))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(
                {
                    ("non_field_errors" if field == "__all__" else field): [
                        str(m) for m in messages
                    ]
                    for field, messages in exc.message_dict.items()
                }
            )
        return exceptions.ValidationError({"non_field_errors": [str(m) for m in exc.messages]})
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error as problem details."""
    exc = _django_to_drf(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    instance = request.path if request is not None else ""
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.get_full_details())
        if len(errors) == 1 and not errors[0]["pointer"]:
            detail = errors[0]["detail"]
        else:
            detail = "Some fields are not valid; see errors."
    elif isinstance(exc, exceptions.APIException):
        detail = str(exc.detail)
    else:  # pragma: no cover - DRF handles only APIException, Http404, PermissionDenied
        detail = str(exc)
    response.data = problem(response.status_code, detail=detail, instance=instance, errors=errors)
    response.content_type = CONTENT_TYPE
    return response
