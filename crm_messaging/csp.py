"""The Content-Security-Policy's one exception: the Django admin may use inline styles.

Staff screens and guest pages run only the scripts and styles in ``static/`` (django-csp,
``CONTENT_SECURITY_POLICY`` in settings). The admin's own templates are script-clean, but its
widgets and our list columns (warning notes, colours) write ``style`` attributes; the admin
is for managers and superusers only, and gets ``'unsafe-inline'`` for styles — never scripts.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import UNSAFE_INLINE
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

ADMIN_ALLOWANCE = {"style-src": [UNSAFE_INLINE]}


class AdminStyleAllowance:
    """Widen ``style-src`` for admin pages; placed after ``csp.middleware.CSPMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(reverse("admin:index")):
            response._csp_update = ADMIN_ALLOWANCE  # type: ignore[attr-defined]
        return response
