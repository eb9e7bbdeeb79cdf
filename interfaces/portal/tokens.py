"""Signed tokens for the portal's links and session, one salt per purpose.

A token signed for one purpose never verifies for another: an unsubscribe token cannot
sign anybody in, a login link cannot confirm an e-mail address.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing

from guests.models import ContactChannel

SALT_LOGIN_LINK = "crm_messaging.portal.login-link"
SALT_SESSION = "crm_messaging.portal.session"
SALT_EMAIL_CONFIRMATION = "crm_messaging.portal.email-confirmation"
SALT_UNSUBSCRIBE = "crm_messaging.portal.unsubscribe"

BadToken = signing.BadSignature  # SignatureExpired is a subclass


def login_link_token(code_id: int) -> str:
    return signing.dumps(code_id, salt=SALT_LOGIN_LINK)


def read_login_link_token(token: str, *, max_age: dt.timedelta) -> int:
    """Return the login code's id; raise BadToken if tampered with or older than ``max_age``."""
    return _int(signing.loads(token, salt=SALT_LOGIN_LINK, max_age=max_age))


def session_token(guest_id: int) -> str:
    return signing.dumps(guest_id, salt=SALT_SESSION)


def read_session_token(token: str, *, max_age: dt.timedelta) -> int:
    return _int(signing.loads(token, salt=SALT_SESSION, max_age=max_age))


def email_confirmation_token(confirmation_id: int) -> str:
    return signing.dumps(confirmation_id, salt=SALT_EMAIL_CONFIRMATION)


def read_email_confirmation_token(token: str, *, max_age: dt.timedelta) -> int:
    return _int(signing.loads(token, salt=SALT_EMAIL_CONFIRMATION, max_age=max_age))


def unsubscribe_token(guest_id: int, channel: str) -> str:
    """A token that stays valid: unsubscribe links in old mail must keep working."""
    return signing.Signer(salt=SALT_UNSUBSCRIBE).sign_object({"g": guest_id, "c": channel})


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """Return (guest id, channel); raise BadToken if tampered with."""
    data = signing.Signer(salt=SALT_UNSUBSCRIBE).unsign_object(token)
    if not isinstance(data, dict) or data.get("c") not in ContactChannel.values:
        raise BadToken("Not an unsubscribe token.")
    return _int(data.get("g")), data["c"]


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadToken("The token does not carry an id.")
    return value
