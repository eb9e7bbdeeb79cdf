"""The Prometheus scrape endpoint."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .access import metrics_allowed
from .collector import DatabaseCollector
from .metrics import event_registry


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format; 403 without the token or an allowed address."""
    if not metrics_allowed(request):
        return HttpResponseForbidden(
            "metrics need 'Authorization: Bearer <METRICS_TOKEN>' or an address in METRICS_ALLOWED_ADDRESSES",
            content_type="text/plain",
        )
    registry = event_registry()
    registry.register(DatabaseCollector())
    response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    add_never_cache_headers(response)
    return response
