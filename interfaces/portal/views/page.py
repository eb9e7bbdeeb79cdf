"""The guest's own page (P2): his stay, the hotel, contact details, consents, companions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_messaging.clients import client_ip
from crm_messaging.phones import format_phone_international
from guests.models import ConsentPurpose, Guest, Hotel
from guests.selectors import consent_current

from .. import conf, selectors, services, tokens
from ..forms import CodeForm, CompanionForm, ConsentForm, ContactForm
from ..session import signed_in_guest
from .common import guest_language, guest_required, render_page, visitor_language

# Board codes are standard (G2); their names in the database are the hotel's, in one language.
BOARD_LABELS = {
    "RO": gettext_lazy("Room only"),
    "BB": gettext_lazy("Bed & breakfast"),
    "HB": gettext_lazy("Half board"),
    "FB": gettext_lazy("Full board"),
    "AI": gettext_lazy("All inclusive"),
}


def _consent_initial(guest: Guest, channels: list[str]) -> dict[str, bool]:
    current = consent_current(guest)
    data = current.get((ConsentPurpose.DATA_PROCESSING, ""))
    initial = {"data_processing": bool(data and data.granted)}
    for channel in channels:
        record = current.get((ConsentPurpose.MARKETING, channel))
        initial[f"marketing_{channel}"] = bool(record and record.granted)
    # Opens and clicks are counted until the guest refuses (E3): no record shows ticked.
    analytics = current.get((ConsentPurpose.ANALYTICS, ""))
    initial["analytics"] = analytics is None or analytics.granted
    return initial


def _contact_initial(guest: Guest) -> dict[str, str]:
    pending = selectors.pending_email_confirmation(guest)
    if pending is not None:
        email = pending.email
    elif selectors.email_state(guest) == "relay":
        email = ""  # asked for anew: the relay address is not the guest's
    else:
        email = guest.email
    return {
        "email": email,
        "phone": format_phone_international(guest.phone),
        "language": guest.language,
    }


def _page(
    request: HttpRequest,
    guest: Guest,
    *,
    contact_form: ContactForm | None = None,
    consent_form: ConsentForm | None = None,
    companion_form: CompanionForm | None = None,
    phone_form: CodeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    language = guest_language(guest)
    hotel = Hotel.load()
    channels = selectors.marketing_channels()
    stays = list(selectors.guest_stays(guest))
    stay = stays[0] if stays else None
    pending_phone = selectors.pending_phone_change(guest)
    context: dict[str, Any] = {
        "guest": guest,
        "stay": stay,
        "other_stays": stays[1:],
        "board": (BOARD_LABELS.get(stay.board_type.code) or stay.board_type.name) if stay else "",
        "companions": list(stay.companions.all()) if stay else [],
        "is_booker": bool(stay and stay.booker_id == guest.pk),
        "email_state": selectors.email_state(guest),
        "relay_portal": selectors.relay_portal_name(guest.email) if guest.email else "",
        "pending": selectors.pending_email_confirmation(guest),
        "pending_phone": pending_phone,
        "pending_phone_display": format_phone_international(pending_phone.phone)
        if pending_phone
        else "",
        "phone_form": phone_form or CodeForm(auto_id="phone_%s"),
        "contact_form": contact_form or ContactForm(initial=_contact_initial(guest)),
        "consent_form": consent_form
        or ConsentForm(initial=_consent_initial(guest, channels), channels=channels),
        "companion_form": companion_form or CompanionForm(stays=selectors.guest_stays(guest)),
        "data_wording": selectors.consent_wording(
            ConsentPurpose.DATA_PROCESSING, language, hotel_name=hotel.name
        ),
        "marketing_wording": selectors.consent_wording(
            ConsentPurpose.MARKETING, language, hotel_name=hotel.name
        ),
        "analytics_wording": selectors.consent_wording(
            ConsentPurpose.ANALYTICS, language, hotel_name=hotel.name
        ),
        "hotel_phone": format_phone_international(hotel.phone) if hotel.phone else "",
        "signed_in": True,
    }
    return render_page(request, "portal/page.html", context, language=language, status=status)


@require_GET
@guest_required
def home_view(request: HttpRequest, guest: Guest) -> HttpResponse:
    return _page(request, guest)


@require_POST
@guest_required
def contact_view(request: HttpRequest, guest: Guest) -> HttpResponse:
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            change = services.contact_details_update(
                guest=guest,
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                language=form.cleaned_data["language"],
                resend="resend" in request.POST,
                client_ip=client_ip(request),
            )
        except services.PortalError as exc:
            guest.refresh_from_db()  # nothing was saved; the page shows what is stored
            field = {
                "relay_email": "email",
                "invalid_email": "email",
                "rate_limited": "email",
                "not_sent": "email",
                "invalid_phone": "phone",
                "country_not_allowed": "phone",
                "phone_rate_limited": "phone",
            }.get(exc.code or "")
            form.add_error(field, exc.messages[0])
        else:
            with translation.override(guest_language(guest)):
                if "email" in change.changed and change.confirmation is not None:
                    messages.success(
                        request,
                        _(
                            "We have sent a confirmation link to %(email)s. Please open it to "
                            "confirm the address."
                        )
                        % {"email": change.confirmation.email},
                    )
                if "phone" in change.changed and change.phone_code is not None:
                    messages.success(
                        request,
                        _(
                            "We have sent a code to %(phone)s. Please enter it below to confirm "
                            "the new number."
                        )
                        % {"phone": format_phone_international(change.phone_code.phone)},
                    )
                if change.changed == ("language",):
                    messages.success(request, _("Your details are saved."))
                elif not change.changed:
                    messages.info(request, _("Nothing has changed."))
            return redirect("portal:home")
    return _page(request, guest, contact_form=form, status=400)


@require_POST
@guest_required
def consents_view(request: HttpRequest, guest: Guest) -> HttpResponse:
    form = ConsentForm(request.POST, channels=selectors.marketing_channels())
    if not form.is_valid():
        return _page(request, guest, consent_form=form, status=400)
    records = services.consents_update(
        guest=guest,
        data_processing=form.cleaned_data["data_processing"],
        marketing=form.marketing(),
        analytics=form.analytics_choice(),
        language=guest_language(guest),
    )
    if records:
        messages.success(request, _("Your choices are saved."))
    else:
        messages.info(request, _("Nothing has changed."))
    return redirect("portal:home")


@require_POST
@guest_required
def companion_view(request: HttpRequest, guest: Guest) -> HttpResponse:
    form = CompanionForm(request.POST, stays=selectors.guest_stays(guest))
    if form.is_valid():
        try:
            companion, _created = services.companion_add(
                reservation=form.cleaned_data["reservation"], booker=guest, **form.companion()
            )
        except services.PortalError as exc:
            field = {
                "invalid_email": "email",
                "relay_email": "email",
                "invalid_phone": "phone",
                "is_booker": None,
            }.get(exc.code or "")
            form.add_error(field, exc.messages[0])
        else:
            messages.success(
                request, _("%(name)s is on your stay now.") % {"name": companion.full_name}
            )
            return redirect("portal:home")
    return _page(request, guest, companion_form=form, status=400)


@require_POST
@guest_required
def confirm_phone_view(request: HttpRequest, guest: Guest) -> HttpResponse:
    """The code texted to the new number: entering it stores the number."""
    form = CodeForm(request.POST, auto_id="phone_%s")
    if form.is_valid():
        try:
            services.phone_change_confirm(guest=guest, code=form.cleaned_data["code"])
        except services.PortalError as exc:
            form.add_error("code", exc.messages[0])
        else:
            messages.success(request, _("Your new phone number is saved."))
            return redirect("portal:home")
    return _page(request, guest, phone_form=form, status=400)


def _link_invalid(request: HttpRequest, error: str, language: str) -> HttpResponse:
    return render_page(
        request, "portal/link_invalid.html", {"error": error}, language=language, status=400
    )


@require_http_methods(["GET", "POST"])
def confirm_email_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the confirmation mail: it works without signing in.

    A GET only shows a page with a button; the POST confirms. Mail scanners and link
    previews fetch links, and must not confirm an address for anybody.
    """
    language = visitor_language(request)
    if request.method == "GET":
        try:
            tokens.read_email_confirmation_token(token, max_age=conf.EMAIL_CONFIRMATION_TTL)
        except tokens.BadToken:
            with translation.override(language):
                return _link_invalid(
                    request, _("This confirmation link is not valid or has expired."), language
                )
        return render_page(request, "portal/confirm_email.html", {}, language=language)
    with translation.override(language):
        try:
            guest = services.email_confirm(token=token)
        except services.PortalError as exc:
            return _link_invalid(request, exc.messages[0], language)
    signed_in = signed_in_guest(request)
    context = {
        "email": guest.email,
        "signed_in": signed_in is not None and signed_in.pk == guest.pk,
    }
    return render_page(
        request, "portal/email_confirmed.html", context, language=guest_language(guest)
    )
