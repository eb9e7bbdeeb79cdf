"""Our own open and click tracking (E3): a pixel and signed redirects on ``PUBLIC_BASE_URL``.

A tracked message's HTML gets each outside link (``http``/``https``, not our own pages: the
portal's and unsubscribe links carry the guest's tokens and are never wrapped) rewritten to
``/t/c/<token>/``, where the token is the message id and the original URL signed together
(``django.core.signing``); the redirect goes only to the URL inside a valid token, so it
cannot be made to send anyone elsewhere, and a changed token is refused. A 1×1 pixel
``/t/o/<token>.gif`` is added for opens.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.urls import reverse

if TYPE_CHECKING:
    from .models import OutboundMessage

_OPEN_SALT = "channels_out.tracking.open"
_CLICK_SALT = "channels_out.tracking.click"
_LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def open_token(message_id: int) -> str:
    return signing.Signer(salt=_OPEN_SALT).sign(str(message_id))


def read_open_token(token: str) -> int:
    """Return the message id of an open token; raise signing.BadSignature for a changed one."""
    value = signing.Signer(salt=_OPEN_SALT).unsign(token)
    if not value.isdigit():
        raise signing.BadSignature("not a message id")
    return int(value)


def click_token(message_id: int, url: str) -> str:
    return signing.dumps({"m": message_id, "u": url}, salt=_CLICK_SALT, compress=True)


def read_click_token(token: str) -> tuple[int, str]:
    """Return (message id, URL) of a click token; raise signing.BadSignature for a changed one."""
    data = signing.loads(token, salt=_CLICK_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("m"), int):
        raise signing.BadSignature("not a click token")
    url = data.get("u")
    if not isinstance(url, str) or not trackable(url):
        raise signing.BadSignature("not a trackable link")
    return data["m"], url


def trackable(url: str) -> bool:
    """An outside web link: http(s), and not one of our own pages (which carry tokens)."""
    lowered = url.strip().lower()
    if not lowered.startswith(("http://", "https://")):
        return False
    return not lowered.startswith(settings.PUBLIC_BASE_URL.lower() + "/")


def click_url(message_id: int, url: str) -> str:
    path = reverse("channels_out:track-click", kwargs={"token": click_token(message_id, url)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def open_url(message_id: int) -> str:
    path = reverse("channels_out:track-open", kwargs={"token": open_token(message_id)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def tracked_html(message: OutboundMessage, body: str) -> str:
    """Return ``body`` with its outside links wrapped in signed redirects and the open pixel added."""
    if not body:
        return body

    def wrap(match: re.Match[str]) -> str:
        url = html.unescape(match.group(3)).strip()
        if not trackable(url):
            return match.group(0)
        quote = match.group(2)
        return f"{match.group(1)}{quote}{html.escape(click_url(message.pk, url))}{quote}"

    wrapped = _LINK.sub(wrap, body)
    pixel = f'<img src="{html.escape(open_url(message.pk))}" width="1" height="1" alt="">'
    if _BODY_END.search(wrapped):
        return _BODY_END.sub(lambda m: pixel + m.group(0), wrapped, count=1)
    return wrapped + pixel
