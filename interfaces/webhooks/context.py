"""The warning on every staff page while an endpoint is disabled for failing (I2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from .models import WebhookEndpoint
from .selectors import endpoints_disabled_for_failures


def webhooks_context(request: HttpRequest) -> dict[str, Callable[[], list[WebhookEndpoint]]]:
    """``webhooks_disabled``: read only when a page shows it (the staff header, not the admin)."""

    def disabled() -> list[WebhookEndpoint]:
        user: Any = getattr(request, "user", None)
        if user is None or not user.has_perm("webhooks.change_webhookendpoint"):
            return []
        return endpoints_disabled_for_failures()

    return {"webhooks_disabled": disabled}
