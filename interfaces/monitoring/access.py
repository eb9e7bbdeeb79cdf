"""Who may read the metrics: a bearer token (METRICS_TOKEN) or an allowed address."""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks() -> tuple[Network, ...]:
    return _networks(tuple(settings.METRICS_ALLOWED_ADDRESSES))


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_ADDRESSES must be addresses or networks (CIDR): {exc}"
        ) from exc


def metrics_allowed(request: HttpRequest) -> bool:
    """True for the right bearer token, or a request from an allowed address."""
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in network for network in allowed_networks())
