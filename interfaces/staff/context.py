"""What every staff page knows: the navigation the user may see, the balance warnings.

A manager sees a crossing of the balance (credits low, sends stopped) in the header until
he dismisses it; the next crossing shows again (K5).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from channels_out.selectors import CreditAlert, credit_alerts

from . import two_factor

# The crossings (CreditAlert.key) this session dismissed from the header.
DISMISSED_ALERTS = "credit_alerts_dismissed"
CREDITS_PERMISSION = "channels_out.view_creditorder"

# (label, url name, permission needed): the nav shows only what the user may open.
NAVIGATION: list[tuple[Promise, str, str]] = [
    (_("Today"), "staff:home", ""),
    (_("Inbox"), "inbox:list", "inbox.view_conversation"),
    (_("Reservations"), "guests:reservation-list", "guests.view_reservation"),
    (_("Guests"), "guests:guest-list", "guests.view_guest"),
    (_("Campaigns"), "campaigns:campaign-list", "campaigns.view_campaign"),
    (_("Sent messages"), "channels_out:message-list", "channels_out.view_outboundmessage"),
    (_("Credits"), "channels_out:credits", "channels_out.view_creditorder"),
    (_("Analytics"), "analytics:dashboard", "channels_out.view_creditorder"),
    (_("Settings"), "staff:settings", "channels_out.change_messagingpolicy"),
    (_("API keys"), "api-keys", "api.manage_apikey"),
    (_("Webhooks"), "webhooks:endpoint-list", "webhooks.view_webhookendpoint"),
    (_("Import"), "imports:start", "imports.run_import"),
]


def _credit_alerts(request: HttpRequest) -> list[CreditAlert]:
    """The balance crossings this member of staff may see and has not dismissed."""
    if not request.user.has_perm(CREDITS_PERMISSION):
        return []
    dismissed = set(request.session.get(DISMISSED_ALERTS, []))
    return [a for a in credit_alerts() if a.key not in dismissed]


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
        # Read only by the pages that show it (the admin's never do): a callable, lazily.
        "credit_alerts": partial(_credit_alerts, request),
        "staff_nav": nav,
        "staff_languages": settings.STAFF_LANGUAGES,
        "two_factor": two_factor.applies_to(user),
    }
