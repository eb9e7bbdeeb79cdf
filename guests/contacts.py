"""E-mail address rules: OTA relay detection and normalisation (G5)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Booking portals hand the hotel a forwarding address instead of the guest's own (seed 001,
# seed 004). Mail to them may be delivered, but they never identify the person.
OTA_RELAY_DOMAINS: frozenset[str] = frozenset(
    {
        "guest.booking.com",
        "m.expediapartnercentral.com",
        "expediapartnercentral.com",
        "guest.airbnb.com",
        "reply.airbnb.com",
        "agoda-messaging.com",
        "messages.homeaway.com",
        "guest.trip.com",
        "hotels.com-relay.expedia.com",
    }
)


def relay_domains() -> frozenset[str]:
    """Return the known relay domains plus any from the ``OTA_RELAY_DOMAINS`` setting."""
    extra = getattr(settings, "OTA_RELAY_DOMAINS", ())
    return OTA_RELAY_DOMAINS | {d.lower() for d in extra}


def is_ota_relay_email(email: str) -> bool:
    """Tell whether ``email`` is a booking portal's relay address (its domain or a subdomain)."""
    if "@" not in (email or ""):
        return False
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return any(domain == d or domain.endswith("." + d) for d in relay_domains())


def normalise_email(raw: str) -> str:
    """Return the address trimmed, with its domain in lower case; raise ValidationError if malformed."""
    email = (raw or "").strip()
    if not email:
        return ""
    validate_email(email)
    local, domain = email.rsplit("@", 1)
    if "\n" in email or "\r" in email:
        raise ValidationError("An e-mail address cannot contain a line break.", code="invalid")
    return f"{local}@{domain.lower()}"
