"""What every guest page shares: its language, the signed-in guest, private rendering."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import patch_cache_control

from guests.models import Guest, Hotel

from ..session import LANGUAGE_KEY, signed_in_guest

PAGE_LANGUAGES = [code for code, _ in settings.LANGUAGES]


def guest_language(guest: Guest) -> str:
    """The language a guest's pages are in: his own if the portal speaks it, else the site's."""
    return guest.language if guest.language in PAGE_LANGUAGES else settings.LANGUAGE_CODE


def visitor_language(request: HttpRequest) -> str:
    """The language of a page for someone not signed in: chosen with ?lang=, else the browser's."""
    chosen = request.GET.get("lang", "")
    if chosen in PAGE_LANGUAGES:
        request.session[LANGUAGE_KEY] = chosen
        return chosen
    remembered = request.session.get(LANGUAGE_KEY, "")
    if remembered in PAGE_LANGUAGES:
        return remembered
    browser = translation.get_language_from_request(request)
    return browser if browser in PAGE_LANGUAGES else settings.LANGUAGE_CODE


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    language: str,
    status: int = 200,
) -> HttpResponse:
    """Render a guest page in ``language``; personal pages are never cached."""
    with translation.override(language):
        response = render(
            request,
            template,
            {
                "hotel": Hotel.load(),
                "page_language": language,
                "page_languages": settings.LANGUAGES,
                **context,
            },
            status=status,
        )
    response.headers["Content-Language"] = language
    patch_cache_control(response, private=True, no_store=True)
    return response


def guest_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run ``view`` for a signed-in guest, in his language; send anybody else to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        guest = signed_in_guest(request)
        if guest is None:
            return redirect("portal:login")
        with translation.override(guest_language(guest)):
            return view(request, guest, *args, **kwargs)

    return wrapper
