"""Address lists read from settings (METRICS_ALLOWED_ADDRESSES, WEBHOOKS_ALLOWED_PRIVATE_NETWORKS):
parsed once per value, and a malformed entry names its setting."""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def configured_networks(setting: str) -> tuple[Network, ...]:
    """The networks (CIDR; a plain address is a network of one) listed in ``setting``.

    Raises ImproperlyConfigured, naming the setting, for an entry that is neither.
    """
    return parse_networks(setting, tuple(getattr(settings, setting)))


@cache
def parse_networks(setting: str, entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks ``entries`` of ``setting`` name; ImproperlyConfigured, naming it, if not.

    The settings check the environment's value with it (``crm_messaging.env``)."""
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{setting} must list addresses or networks (CIDR), comma-separated: {exc}"
        ) from exc
