"""Scopes: each view names the scope each of its methods needs."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .models import ApiKey


class HasScope(BasePermission):
    """Allow a request whose API key holds the view's ``required_scopes[method]``; a view
    names a scope for every method it implements (a method it lacks gets DRF's 405)."""

    message = "This API key does not have the scope this request needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        needed = getattr(view, "required_scopes", {}).get(request.method)
        if needed is None:
            return True  # a method the view does not offer: the answer is its 405

        if not key.has_scope(needed):
            self.message = f"This API key does not have the “{needed}” scope."
            return False
        return True
