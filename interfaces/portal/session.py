"""The guest's sign-in, kept apart from staff authentication.

A signed-in guest is a signed, timestamped guest id under one session key with its own
lifetime (``PORTAL_SESSION_HOURS``); the guest is never a ``django.contrib.auth`` user, so a
guest session opens no staff screen and a staff login is not a guest's.
"""

from __future__ import annotations

from django.http import HttpRequest

from guests.models import Guest

from . import conf, tokens

SESSION_KEY = "portal_guest_id"
PHONE_KEY = "portal_login_phone"
LANGUAGE_KEY = "portal_language"


def guest_sign_in(request: HttpRequest, guest: Guest) -> None:
    """Sign ``guest`` in on this browser (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = tokens.session_token(guest.pk)
    request.session.pop(PHONE_KEY, None)


def guest_sign_out(request: HttpRequest) -> None:
    for key in (SESSION_KEY, PHONE_KEY):
        request.session.pop(key, None)


def signed_in_guest(request: HttpRequest) -> Guest | None:
    """Return the guest signed in on this browser, or None (never signed in, expired, gone).

    A session stays with the profile it signed in to: when that profile was merged into
    another since, the guest is signed out (he signs in again with his phone) rather than
    continuing as a profile he never proved is his.
    """
    token = request.session.get(SESSION_KEY)
    if not token:
        return None
    try:
        guest_id = tokens.read_session_token(token, max_age=conf.session_ttl())
    except tokens.BadToken:
        request.session.pop(SESSION_KEY, None)
        return None
    guest = Guest.objects.filter(pk=guest_id).first()
    if guest is None:
        request.session.pop(SESSION_KEY, None)
    return guest
