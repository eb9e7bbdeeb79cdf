"""Who may read the metrics: a bearer token (METRICS_TOKEN) or an allowed address."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

from crm_messaging.networks import Network, configured_networks


def allowed_networks() -> tuple[Network, ...]:
    return configured_networks("METRICS_ALLOWED_ADDRESSES")


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
