"""What every staff page knows: the navigation the user may see, the balance warning."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import two_factor

# (label, url name, permission needed): the nav shows only what the user may open.
NAVIGATION: list[tuple[Promise, str, str]] = [
    (_("Today"), "staff:home", ""),
    (_("Reservations"), "guests:reservation-list", "guests.view_reservation"),
    (_("Guests"), "guests:guest-list", "guests.view_guest"),
    (_("Campaigns"), "campaigns:campaign-list", "campaigns.view_campaign"),
    (_("Sent messages"), "channels_out:message-list", "channels_out.view_outboundmessage"),
    (_("Credits"), "channels_out:credits", "channels_out.view_creditorder"),
    (_("Settings"), "staff:settings", "channels_out.change_messagingpolicy"),
    (_("Import"), "imports:start", "imports.run_import"),
]


def staff_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"staff_languages": settings.STAFF_LANGUAGES}
    nav = []
    for label, name, permission in NAVIGATION:
        if permission and not user.has_perm(permission):
            continue
        try:
            nav.append(
                {
                    "label": label,
                    "url": reverse(name),
                    "active": request.path.startswith(reverse(name)) and reverse(name) != "/",
                }
            )
        except NoReverseMatch:
            continue  # a screen not built yet
    return {
        "staff_nav": nav,
        "staff_languages": settings.STAFF_LANGUAGES,
        "two_factor": two_factor.applies_to(user),
    }
