"""Who is asking: the client's address, read the same way wherever it counts.

The portal's code limits and the staff login's lock-out (django-axes) count per client
address. Behind ``TRUSTED_PROXIES`` proxies that each append to ``X-Forwarded-For`` (1 behind
the TLS proxy of docker-compose), the client is the entry that many places from the right
— the address the last trusted proxy saw; entries further left were written by the client
itself and are not believed. With none, it is the socket's address.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def trusted_proxies() -> int:
    return int(getattr(settings, "TRUSTED_PROXIES", 0))


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the socket's, or the one the last trusted proxy saw."""
    proxies = trusted_proxies()
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
