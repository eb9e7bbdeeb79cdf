"""Unsubscribe (P3): the signed per-guest, per-channel link, and RFC 8058 one-click."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from guests.models import Guest

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


def _token_guest(request: HttpRequest, token: str) -> tuple[Guest, str] | HttpResponse:
    """The guest and channel a link is signed for, or the page saying the link is no good."""
    with translation.override(visitor_language(request)):
        try:
            return services.unsubscribe_token_guest(token)
        except services.PortalError as exc:
            return _invalid(request, exc.messages[0])


def _unsubscribe_page(
    request: HttpRequest, guest: Guest, channel: str, token: str, *, subscribed: bool
) -> HttpResponse:
    """The page saying whether the guest now gets marketing on ``channel``, in his language."""
    language = guest_language(guest)
    with translation.override(language):
        context = {
            "guest": guest,
            "channel": channel_label(channel),
            "subscribed": subscribed,
            "token": token,
        }
    return render_page(request, "portal/unsubscribe.html", context, language=language)


def _confirm_page(request: HttpRequest, guest: Guest, channel: str, action: str) -> HttpResponse:
    """The page a GET on either link shows: one button, whose POST to ``action`` opts out.

    Mail scanners and link previews fetch links; they must not unsubscribe anybody.
    """
    language = guest_language(guest)
    with translation.override(language):
        context = {"channel": channel_label(channel), "action": action}
    return render_page(request, "portal/unsubscribe_confirm.html", context, language=language)


@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the message, without signing in: a GET asks, the button's POST opts out at
    once (a repeated POST records nothing new); the page then offers to opt back in."""
    found = _token_guest(request, token)
    if isinstance(found, HttpResponse):
        return found
    guest, channel = found
    if request.method == "GET":
        return _confirm_page(request, guest, channel, reverse("portal:unsubscribe", args=[token]))
    if request.POST.get("action") == "resubscribe":
        services.marketing_resubscribe(guest=guest, channel=channel, language=guest_language(guest))
        subscribed = True
    else:
        services.marketing_unsubscribe(guest=guest, channel=channel)
        subscribed = False
    return _unsubscribe_page(request, guest, channel, token, subscribed=subscribed)


# RFC 8058 section 3.1: the mail sender's List-Unsubscribe-Post header holds this one pair, and
# the mailbox provider POSTs it back as the whole body, form-encoded (Gmail, Yahoo) or as
# multipart/form-data (the RFC's own example).
ONE_CLICK_BODY = {"List-Unsubscribe": ["One-Click"]}


def is_one_click_body(request: HttpRequest) -> bool:
    """Tell whether a POST's body is exactly RFC 8058's ``List-Unsubscribe=One-Click``."""
    if request.content_type == "multipart/form-data":
        return not request.FILES and dict(request.POST.lists()) == ONE_CLICK_BODY
    try:
        # Read as form-encoded whatever the declared type: the pair is the body's only text.
        sent = QueryDict(request.body.decode("ascii").strip())
    except UnicodeDecodeError:
        return False
    return dict(sent.lists()) == ONE_CLICK_BODY


@csrf_exempt  # RFC 8058: the mailbox provider POSTs without our cookies; the signed token authorises it
@require_http_methods(["GET", "POST"])
def unsubscribe_one_click_view(request: HttpRequest, token: str) -> HttpResponse:
    """The ``List-Unsubscribe`` target: a POST of ``List-Unsubscribe=One-Click`` opts out, any
    other body is refused (400) and changes nothing; a GET (a scanner or a person) only asks,
    and the page's button posts to the signed link's own address."""
    found = _token_guest(request, token)
    if isinstance(found, HttpResponse):
        return found
    guest, channel = found
    if request.method == "POST":
        if not is_one_click_body(request):
            language = guest_language(guest)
            with translation.override(language):
                error = _(
                    "This address takes only a mail program's one-click unsubscribe "
                    "(List-Unsubscribe=One-Click). Nothing was changed; to unsubscribe, "
                    "open the link in our e-mail."
                )
            return render_page(
                request, "portal/link_invalid.html", {"error": error}, language=language, status=400
            )
        services.marketing_unsubscribe(guest=guest, channel=channel)
        return _unsubscribe_page(request, guest, channel, token, subscribed=False)
    return _confirm_page(request, guest, channel, reverse("portal:unsubscribe", args=[token]))
