"""The provider backends: the template and the registry of names (``base.py``), one module per
provider. Import what callers need from here."""

from __future__ import annotations

from .base import (
    BACKENDS,
    Accepted,
    Backend,
    Inbound,
    StatusUpdate,
    TransportError,
    WebhookRejected,
    backend_choices,
    backend_class,
    get_backend,
)

__all__ = [
    "BACKENDS",
    "Accepted",
    "Backend",
    "Inbound",
    "StatusUpdate",
    "TransportError",
    "WebhookRejected",
    "backend_choices",
    "backend_class",
    "get_backend",
]
