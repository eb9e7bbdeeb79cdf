"""Absolute links into the guest portal, for messages (P1–P3).

The sender layer and the campaigns call these: ``unsubscribe_url`` for the ``@UNSUBSCRIBE``
placeholder, ``unsubscribe_headers`` for marketing e-mail (RFC 2369 ``List-Unsubscribe``
and RFC 8058 one-click ``List-Unsubscribe-Post``), ``portal_url`` for ``@PORTAL``. Links
start with ``settings.PUBLIC_BASE_URL``, where guests reach the hotel.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from guests.models import ContactChannel

from . import conf, tokens

if TYPE_CHECKING:
    from guests.models import Guest

    from .models import EmailConfirmation, LoginCode


def absolute(path: str) -> str:
    """Return ``path`` on the public address of the site."""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


# Signed tokens are URL-safe (base64url and ":"), so a path reversed once with this
# placeholder and filled in per token is exactly what ``reverse`` would give; a campaign
# builds links for every recipient.
_TOKEN = "0token0"


@lru_cache(maxsize=64)
def _reversed(name: str, with_token: bool, urlconf: str | None, prefix: str) -> str:
    return reverse(name, urlconf=urlconf, args=[_TOKEN] if with_token else None)


def _path(name: str, token: str | None = None) -> str:
    """``reverse(name, args=[token])`` for the portal's routes, reversed once per route."""
    path = _reversed(name, token is not None, get_urlconf(), get_script_prefix())
    return path if token is None else path.replace(_TOKEN, token)


def portal_url() -> str:
    """The guest portal's start page (guests sign in there with their phone)."""
    return absolute(_path("portal:home"))


def unsubscribe_url(guest: Guest, channel: str = ContactChannel.EMAIL) -> str:
    """The guest's own opt-out link for marketing on ``channel``: following it opts out at once."""
    if channel not in ContactChannel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    return absolute(_path("portal:unsubscribe", tokens.unsubscribe_token(guest.pk, channel)))


def unsubscribe_secret(guest: Guest, channel: str = ContactChannel.EMAIL) -> str:
    """The part of ``unsubscribe_url`` that works as a key: messages name it as a secret to mask."""
    return tokens.unsubscribe_token(guest.pk, channel)


def one_click_unsubscribe_url(guest: Guest, channel: str = ContactChannel.EMAIL) -> str:
    """The RFC 8058 endpoint: a POST opts out; a GET (a mail scanner) only asks."""
    return absolute(
        _path("portal:unsubscribe-one-click", tokens.unsubscribe_token(guest.pk, channel))
    )


def unsubscribe_headers(guest: Guest) -> dict[str, str]:
    """The headers every marketing e-mail to ``guest`` carries for one-click unsubscribe."""
    targets = [f"<{one_click_unsubscribe_url(guest, ContactChannel.EMAIL)}>"]
    mailto = conf.unsubscribe_mailto()
    if mailto:
        targets.append(f"<mailto:{mailto}?subject={quote(f'unsubscribe {guest.pk}')}>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def login_link_url(code: LoginCode, *, token: str | None = None) -> str:
    """The one-click sign-in link sent with a login code; it works once and expires with the code.

    ``token`` is the code's link token when the caller holds it already (to mask it in the log).
    """
    return absolute(_path("portal:login-link", token or tokens.login_link_token(code.pk)))


def email_confirmation_url(confirmation: EmailConfirmation, *, token: str | None = None) -> str:
    return absolute(
        _path("portal:confirm-email", token or tokens.email_confirmation_token(confirmation.pk))
    )
