"""Our own open and click tracking (E3): a pixel and signed redirects on ``PUBLIC_BASE_URL``.

A tracked message's HTML gets each outside link (``http``/``https``, not our own pages: the
portal's and unsubscribe links carry the guest's tokens and are never wrapped) rewritten to
``/t/c/<token>/``, where the token is the message id and the original URL signed together
(``django.core.signing``); the redirect goes only to the URL inside a valid token, so it
cannot be made to send anyone elsewhere, and a changed token is refused. A 1×1 pixel
``/t/o/<token>.gif`` is added for opens.

An SMS of a campaign that asks for it (*shorten links in SMS*) gets each outside link of its
text replaced by a short link ``/s/<code>`` on ``PUBLIC_BASE_URL``: the code is random
(``SHORT_CODE_LENGTH`` letters and digits from ``secrets``: not sequential, not guessable) and
stands in a table for the message and the original URL (``ShortLink``), so the redirect goes
only to that URL. ``shortened_text`` is the one rule for what an SMS says with its links
shortened; the live counter measures a text through it too (``text_as_sent``), so parts and
cost are counted on the short links.
"""

from __future__ import annotations

import html
import re
import secrets
import string
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.urls import reverse

from crm_messaging.numbers import whole_number

if TYPE_CHECKING:
    from .models import OutboundMessage

_OPEN_SALT = "channels_out.tracking.open"
_CLICK_SALT = "channels_out.tracking.click"
_LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
# A web address in plain text: up to the next space, quote or angle bracket.
_TEXT_URL = re.compile(r"""https?://[^\s<>"']+""", re.IGNORECASE)
# What ends a sentence rather than the address ("see https://x.example/offer.").
_SENTENCE_END = ".,;:!?"
_CLOSING = {")": "(", "]": "["}

SHORT_CODE_LENGTH = 10
"""Letters and digits of a short link's code: 62**10 (about 8e17) codes, so even a million live
links leave a guess a chance of about one in a trillion."""
_CODE_ALPHABET = string.ascii_letters + string.digits
_CODE = re.compile(rf"[A-Za-z0-9]{{{SHORT_CODE_LENGTH}}}")


def open_token(message_id: int) -> str:
    return signing.Signer(salt=_OPEN_SALT).sign(str(message_id))


def read_open_token(token: str) -> int:
    """Return the message id of an open token; raise signing.BadSignature for a changed one."""
    message_id = whole_number(signing.Signer(salt=_OPEN_SALT).unsign(token))
    if message_id is None:
        raise signing.BadSignature("not a message id")
    return message_id


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


# --- SMS short links -----------------------------------------------------------------------------


def short_code() -> str:
    """A new random code for a short link (``secrets``: unpredictable, never sequential)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def is_short_code(code: str) -> bool:
    """Whether ``code`` has the form of a short link's code (anything else is not looked up)."""
    return _CODE.fullmatch(code) is not None


def short_url(code: str) -> str:
    """The short link of ``code`` on ``PUBLIC_BASE_URL``."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('channels_out:short-link', kwargs={'code': code})}"


def _link_end(url: str) -> str:
    """``url`` without the punctuation of the sentence around it."""
    while url:
        last = url[-1]
        if last in _SENTENCE_END or (
            last in _CLOSING and url.count(last) > url.count(_CLOSING[last])
        ):
            url = url[:-1]
            continue
        break
    return url


def shortened_text(
    text: str, *, code: Callable[[], str] = short_code
) -> tuple[str, dict[str, str]]:
    """Return ``text`` with each outside web link (``trackable``: not our own pages, which
    carry the guest's tokens) replaced by a short link, and the links made as {code: URL}.

    The same URL twice in a text gets one code."""
    codes: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        url = _link_end(found)
        if not trackable(url):
            return found
        if url not in codes:
            codes[url] = code()
        return short_url(codes[url]) + found[len(url) :]

    shortened = _TEXT_URL.sub(replace, text)
    return shortened, {made: url for url, made in codes.items()}


def text_as_sent(text: str) -> str:
    """``text`` as an SMS with shortened links says it, for counting its length and parts
    (a stand-in code of the real length; nothing is stored)."""
    return shortened_text(text, code=lambda: "0" * SHORT_CODE_LENGTH)[0]
