"""The portal's settings, each read with a default so the portal runs with nothing configured.

| setting | default | meaning |
| --- | --- | --- |
| ``PORTAL_ALLOWED_COUNTRIES`` | ``DEFAULT_ALLOWED_COUNTRIES`` | countries whose mobile numbers may get a login code (SMS-pumping defence); a list or a comma-separated string of ISO codes |
| ``PORTAL_CODES_PER_NUMBER_PER_HOUR`` | 3 | login codes sent to one number per hour |
| ``PORTAL_CODES_PER_CLIENT_PER_HOUR`` | 10 | login codes asked for from one client address per hour |
| ``PORTAL_SESSION_HOURS`` | 12 | how long a guest stays signed in |
| ``PORTAL_UNSUBSCRIBE_MAILTO`` | "" | an address for ``mailto:`` unsubscribes in ``List-Unsubscribe`` (optional) |
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

CODE_TTL = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
CODE_DIGITS = 6
EMAIL_CONFIRMATION_TTL = dt.timedelta(days=3)
EMAIL_CONFIRMATIONS_PER_HOUR = 5
MAX_COMPANIONS = 10
LOGIN_CODE_RETENTION = dt.timedelta(days=30)

# Where the hotel's guests come from; premium-rate fraud targets other destinations.
DEFAULT_ALLOWED_COUNTRIES = (
    "TR,DE,GB,GG,JE,IM,RU,UA,NL,FR,SK,PL,AT,CH,BE,LU,IT,ES,PT,IE,DK,SE,NO,FI,CZ,HU,RO,BG,GR,HR,SI,"
    "EE,LV,LT,KZ,AZ,GE,IL,US,CA"
)


def allowed_countries() -> frozenset[str]:
    """Return the ISO codes of countries whose numbers may get a login code."""
    raw = getattr(settings, "PORTAL_ALLOWED_COUNTRIES", None) or DEFAULT_ALLOWED_COUNTRIES
    items = raw.split(",") if isinstance(raw, str) else raw
    return frozenset(str(item).strip().upper() for item in items if str(item).strip())


def codes_per_number() -> int:
    return int(getattr(settings, "PORTAL_CODES_PER_NUMBER_PER_HOUR", 3))


def codes_per_client() -> int:
    return int(getattr(settings, "PORTAL_CODES_PER_CLIENT_PER_HOUR", 10))


def session_ttl() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "PORTAL_SESSION_HOURS", 12)))


def unsubscribe_mailto() -> str:
    return str(getattr(settings, "PORTAL_UNSUBSCRIBE_MAILTO", "") or "")
