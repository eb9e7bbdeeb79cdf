"""Requests per API key per minute, counted in the shared cache (Redis in production)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = request.auth
        if isinstance(key, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": key.pk}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
