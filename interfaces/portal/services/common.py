"""What the portal's services share: their error, the source of their messages, reading a number."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm_messaging.phones import InvalidPhone, normalise_phone

SOURCE = "portal"  # how the portal's messages appear in the send log


class PortalError(ValidationError):
    """A guest's request that cannot be done; ``code`` says which rule refused it."""


def guest_phone(raw: str) -> str:
    """Return ``raw`` in E.164 form; raise PortalError("invalid_phone") in words for guests."""
    try:
        return normalise_phone(raw)
    except InvalidPhone as exc:
        raise PortalError(
            _(
                "This is not a valid phone number. Please write it with the country code, e.g. +44 7400 123456."
            ),
            code="invalid_phone",
        ) from exc
