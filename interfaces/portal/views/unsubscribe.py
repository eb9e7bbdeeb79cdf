"""Unsubscribe (P3): the signed per-guest, per-channel link, and RFC 8058 one-click."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import services
from ..forms import channel_label
from .common import guest_language, render_page, visitor_language


def _invalid(request: HttpRequest, error: str) -> HttpResponse:
    return render_page(
        request,
        "portal/link_invalid.html",
        {"error": error},
        language=visitor_language(request),
        status=400,
    )


@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """Following the link opts out at once, without signing in; the page offers to opt back in."""
    with translation.override(visitor_language(request)):
        try:
            guest, channel = services.unsubscribe_token_guest(token)
        except services.PortalError as exc:
            return _invalid(request, exc.messages[0])
    language = guest_language(guest)
    if request.method == "POST" and request.POST.get("action") == "resubscribe":
        services.marketing_resubscribe(guest=guest, channel=channel, language=language)
        subscribed = True
    else:
        services.marketing_unsubscribe(guest=guest, channel=channel)
        subscribed = False
    with translation.override(language):
        context = {
            "guest": guest,
            "channel": channel_label(channel),
            "subscribed": subscribed,
            "token": token,
        }
    return render_page(request, "portal/unsubscribe.html", context, language=language)


@csrf_exempt  # RFC 8058: the mailbox provider POSTs without our cookies; the signed token authorises it
@require_http_methods(["GET", "POST"])
def unsubscribe_one_click_view(request: HttpRequest, token: str) -> HttpResponse:
    """The ``List-Unsubscribe`` target: a POST opts out; a GET (a scanner or a person) only asks."""
    with translation.override(visitor_language(request)):
        try:
            guest, channel = services.unsubscribe_token_guest(token)
        except services.PortalError as exc:
            return _invalid(request, exc.messages[0])
    language = guest_language(guest)
    if request.method == "POST":
        services.marketing_unsubscribe(guest=guest, channel=channel)
        with translation.override(language):
            context = {
                "guest": guest,
                "channel": channel_label(channel),
                "subscribed": False,
                "token": token,
            }
        return render_page(request, "portal/unsubscribe.html", context, language=language)
    with translation.override(language):
        context = {"guest": guest, "channel": channel_label(channel), "token": token}
    return render_page(request, "portal/unsubscribe_confirm.html", context, language=language)
