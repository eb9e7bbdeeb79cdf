"""The OpenAPI schema, its interactive docs, and the API's answer for unknown addresses."""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from .problems import CONTENT_TYPE, problem


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema (YAML, or JSON with ``?format=json``); public, like the docs."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []


@extend_schema_view(get=extend_schema(exclude=True))
class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI, its files served from here and its set-up script a file of its own
    (CSP: scripts only from this site). Swagger UI writes style attributes, so this page's
    policy allows inline styles — never inline scripts."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        response = super().get(request, *args, **kwargs)
        response._csp_update = {"style-src": [UNSAFE_INLINE]}
        return response


@csrf_exempt  # no session is ever used under /api/; any method gets the same 404
def not_found(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return JsonResponse(
        problem(404, detail="There is no such address in the API.", instance=request.path),
        status=404,
        content_type=CONTENT_TYPE,
    )
