"""Who may read the metrics: a bearer token (METRICS_TOKEN) or an allowed address.

The address is the client's as ``crm_messaging.clients.client_ip`` reads it (the staff login's
lock-out and the portal's limits read it the same way): behind ``TRUSTED_PROXIES`` proxies, the
address the last trusted proxy saw, not the proxy's own — a proxy on the same machine connects
from 127.0.0.1, which must not let everybody it forwards in. The connecting address must be
allowed too: a client that reaches the web server past the proxy cannot get in by writing an
allowed address into ``X-Forwarded-For``.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

from crm_messaging.clients import client_ip
from crm_messaging.networks import Network, configured_networks


def allowed_networks() -> tuple[Network, ...]:
    return configured_networks("METRICS_ALLOWED_ADDRESSES")


def metrics_allowed(request: HttpRequest) -> bool:
    """True for the right bearer token, or a request from a client at an allowed address
    that reached us from an allowed address (the same one without a trusted proxy)."""
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
        return True
    return all(
        _allowed(address) for address in (request.META.get("REMOTE_ADDR"), client_ip(request))
    )


def _allowed(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in allowed_networks())
