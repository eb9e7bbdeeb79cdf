"""The probes' middleware: ``/healthz``, ``/readyz`` and ``/metrics`` answered first.

A load balancer or an orchestrator probes the container by its address, and Prometheus
scrapes it by its service name, over plain HTTP inside the network. With ``ALLOWED_HOSTS``
set to the hotel's real domain and ``SECURE_SSL_REDIRECT`` on, Django would refuse those
hosts (400) or redirect to HTTPS (301), and every probe would fail. This middleware comes
before ``SecurityMiddleware`` and ``CommonMiddleware`` and calls the probe views directly,
so neither the host check nor the redirect applies to them; nothing else passes here.
The views guard themselves (``/metrics`` asks for its token or an allowed address).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import resolve

PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in PROBE_PATHS:
            match = resolve(request.path_info)
            return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
