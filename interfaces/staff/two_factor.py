"""Two-factor sign-in for managers and superusers: a TOTP code from an authenticator app (django-otp).

After the password, a manager or superuser enters the 6-digit code of his authenticator app
before any staff screen or the admin opens. The first time, the page shows a QR code (and the
key, to type in) for the app, and the first right code confirms it. ``STAFF_TWO_FACTOR``
decides who must: ``required`` (the production default) — every manager and superuser;
``optional`` (the development default) — those who have set up an app. Codes work once, and
wrong ones slow the next try down (django-otp's throttling: 1, 2, 4 … seconds). A lost phone:
a superuser deletes the member's device in the admin (*OTP_TOTP → TOTP devices*), and the
next sign-in sets up a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import segno
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .roles import ADMIN_PERMISSION

REQUIRED, OPTIONAL = "required", "optional"
# What a signed-in member who still owes his code may open, by the view a URL names, never by
# its address (a staff screen mounted under an open prefix would slip through): the guests'
# portal (a guest has no staff session), the code page, signing out, the language choice, the
# probes, the providers' callbacks and the guests' tracked links (an e-mail's redirect and
# pixel, an SMS's short link) that a member may follow from his own phone.
OPEN_NAMESPACES = frozenset({"portal"})
OPEN_VIEWS = frozenset(
    {
        "staff:two-factor",
        "logout",
        "set_language",
        "healthz",
        "readyz",
        "monitoring:metrics",
        "channels_out:status-webhook",
        "channels_out:inbound-webhook",
        "channels_out:track-open",
        "channels_out:track-click",
        "channels_out:short-link",
        "mews:webhook",
    }
)


def mode() -> str:
    return REQUIRED if getattr(settings, "STAFF_TWO_FACTOR", OPTIONAL) == REQUIRED else OPTIONAL


def applies_to(user: Any) -> bool:
    """Managers and superusers sign in with a second factor."""
    return bool(user.is_authenticated and (user.is_superuser or user.has_perm(ADMIN_PERMISSION)))


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def owes_code(user: Any) -> bool:
    """Tell whether ``user`` must enter a code before the staff screens or the admin open."""
    if not applies_to(user) or user.is_verified():
        return False
    return mode() == REQUIRED or confirmed_device(user) is not None


@transaction.atomic
def totp_device_for_setup(*, user: Any) -> TOTPDevice:
    """The unconfirmed device whose key the set-up page shows (made once, kept until confirmed)."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=str(_("Authenticator app")), confirmed=False
        )
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice) -> TOTPDevice:
    """Make ``device`` the member's one confirmed device (a right code was entered for it)."""
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label=gettext_lazy("Code from your authenticator app"),
        error_messages={"invalid": gettext_lazy("Please enter the 6 digits of the code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("staff:home")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Enter the code (and, the first time, set up the app from a QR code)."""
    user: Any = request.user  # OTPMiddleware adds is_verified()
    if not applies_to(user):
        return redirect("staff:home")
    device = confirmed_device(user)
    if device is not None and user.is_verified():
        return render(request, "registration/two_factor.html", {"done": True})
    setting_up = device is None
    if device is None:
        device = totp_device_for_setup(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            form.add_error(
                "code", _("Too many wrong codes. Please wait a few seconds and try again.")
            )
        elif device.verify_token(form.cleaned_data["code"].strip()):
            if setting_up:
                device = totp_device_confirm(device=device)
            otp_login(request, device)
            return redirect(_next(request))
        else:
            form.add_error("code", _("This code is not right. Please try the current one."))
    context: dict[str, Any] = {"form": form, "setting_up": setting_up, "next": _next(request)}
    if setting_up:
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(
            scale=4, title=str(_("QR code for your authenticator app"))
        )
        context["key"] = _spaced(device.config_url)
    response = render(
        request, "registration/two_factor.html", context, status=400 if form.errors else 200
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _spaced(config_url: str) -> str:
    """The base32 key of an otpauth URL in groups of four, to type into an app by hand."""
    key = parse_qs(urlsplit(config_url).query)["secret"][0]
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def requires_staff_permission(view: Callable[..., Any]) -> bool:
    """Tell whether ``view`` is a staff screen guarded by a permission (``StaffView`` and the
    like): never open without the code, whatever URL it is mounted at."""
    view_class = getattr(view, "view_class", None)
    return isinstance(view_class, type) and issubclass(view_class, PermissionRequiredMixin)


def open_without_code(request: HttpRequest) -> bool:
    """Tell whether the page ``request`` asks for opens for a member who still owes his code.

    Decided on the view its address names, as Django will resolve it; an address that names no
    view is not open (the not-found page shows the staff header)."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    if requires_staff_permission(match.func):
        return False
    return match.namespace in OPEN_NAMESPACES or match.view_name in OPEN_VIEWS


class TwoFactorGate:
    """Send a manager or superuser who has not entered his code to the code page.

    After ``django_otp.middleware.OTPMiddleware`` (which tells whether the session is verified).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and owes_code(user) and not open_without_code(request):
            page = reverse("staff:two-factor")
            return redirect(f"{page}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
