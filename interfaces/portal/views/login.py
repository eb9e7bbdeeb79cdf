"""Signing in with a phone number (P1): the number, the code, the one-click link, signing out."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm_messaging.clients import client_ip
from crm_messaging.phones import format_phone_international

from .. import conf, services, tokens
from ..forms import CodeForm, PhoneForm
from ..session import LANGUAGE_KEY, PHONE_KEY, guest_sign_in, guest_sign_out, signed_in_guest
from .common import guest_language, render_page, visitor_language


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Ask for the phone number and send a code; the answer is the same for any number."""
    if signed_in_guest(request) is not None:
        return redirect("portal:home")
    language = visitor_language(request)
    with translation.override(language):
        form = PhoneForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                row = services.login_code_request(
                    phone=form.cleaned_data["phone"], client_ip=client_ip(request)
                )
            except services.PortalError as exc:
                form.add_error("phone", exc.messages[0])
            else:
                request.session[PHONE_KEY] = row.phone
                return redirect("portal:login-code")
    return render_page(
        request,
        "portal/login.html",
        {"form": form, "show_languages": True},
        language=language,
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def login_code_view(request: HttpRequest) -> HttpResponse:
    """Take the code from the text message and sign the guest in."""
    phone = request.session.get(PHONE_KEY)
    if not phone:
        return redirect("portal:login")
    language = visitor_language(request)
    with translation.override(language):
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                guest = services.login_code_verify(phone=phone, code=form.cleaned_data["code"])
            except services.PortalError as exc:
                form.add_error("code", exc.messages[0])
            else:
                guest_sign_in(request, guest)
                return redirect("portal:home")
    context = {
        "form": form,
        "phone": format_phone_international(phone),
        "show_languages": True,
        "minutes": int(conf.CODE_TTL.total_seconds() // 60),
    }
    return render_page(
        request,
        "portal/login_code.html",
        context,
        language=language,
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def login_link_view(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click link from the text message.

    A GET only shows a page that signs in by itself (a POST from a script, with a button as
    fallback): link previews in messaging apps fetch the link and must not use it up.
    """
    language = visitor_language(request)
    if request.method == "POST":
        with translation.override(language):
            try:
                guest = services.login_link_use(token=token)
            except services.PortalError as exc:
                return render_page(
                    request,
                    "portal/link_invalid.html",
                    {"error": exc.messages[0]},
                    language=language,
                    status=400,
                )
        guest_sign_in(request, guest)
        return redirect("portal:home")
    try:
        tokens.read_login_link_token(token, max_age=conf.CODE_TTL)
    except tokens.BadToken:
        with translation.override(language):
            error = _("This sign-in link is not valid or has expired.")
        return render_page(
            request, "portal/link_invalid.html", {"error": error}, language=language, status=400
        )
    return render_page(request, "portal/login_link.html", {}, language=language)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    guest = signed_in_guest(request)
    guest_sign_out(request)
    if guest is not None:
        language = guest_language(guest)
        request.session[LANGUAGE_KEY] = language
        with translation.override(language):
            messages.info(request, _("You are signed out."))
    return redirect("portal:login")
