"""An e-mail's HTML shown to staff in a sandboxed frame, under a policy of its own.

Staff pages allow no inline styles (Content-Security-Policy), and a ``srcdoc`` frame inherits
its page's policy, so an e-mail — written with inline styles, as e-mail is — would lose them.
The HTML is kept in the cache for a short while under a random key bound to the member of
staff who saw the preview, and the frame loads it from ``email_preview_view``: styles yes,
scripts never (``sandbox``, ``script-src`` absent, ``default-src 'none'``).
"""

from __future__ import annotations

import secrets

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

TTL_SECONDS = 30 * 60
PREVIEW_POLICY = {
    "default-src": [NONE],
    "script-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "img-src": ["https:", "http:", "data:"],
    "font-src": ["https:", "data:"],
    "frame-ancestors": [SELF],
    "form-action": [NONE],
    "sandbox": [""],
}


def _cache_key(user_id: int, key: str) -> str:
    return f"campaigns:email-preview:{user_id}:{key}"


def email_preview_url(html: str, *, user_id: int) -> str:
    """Keep ``html`` for the member of staff ``user_id`` and return the URL the frame loads."""
    key = secrets.token_urlsafe(16)
    cache.set(_cache_key(user_id, key), html, TTL_SECONDS)
    return reverse("campaigns:email-preview", args=[key])


@require_GET
@login_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@xframe_options_sameorigin
def email_preview_view(request: HttpRequest, key: str) -> HttpResponse:
    html = cache.get(_cache_key(int(request.user.pk or 0), key))
    if html is None:
        raise Http404("This preview has expired: show the message again.")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    # What django-csp's csp_replace decorator sets: this policy instead of the site's.
    response._csp_replace = PREVIEW_POLICY  # type: ignore[attr-defined]
    return response
