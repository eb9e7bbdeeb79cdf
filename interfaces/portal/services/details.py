"""The guest's contact details (P2, G5): language, the e-mail he confirms by a link, the phone he
confirms by a code.

A guest proves each new contact detail before it is his: the e-mail by the link mailed to it,
the phone by the code texted to it. Confirming never merges profiles and never changes who is
signed in: an address another profile already holds shows up as a duplicate for staff to
judge (G5), since anyone may type anyone's address.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels_out.services import Step, message_send, suppressions_clear_confirmed
from guests.contacts import is_ota_relay_email, normalise_email
from guests.models import ConsentPurpose, ContactChannel, Guest, Hotel
from guests.services import guest_confirm_contact, guest_update

from .. import conf, links, selectors, tokens
from ..codes import code_hash, new_code
from ..models import EmailConfirmation, LoginCode
from .common import SOURCE, PortalError, guest_phone
from .login import code_use, send_code_sms, sendable_number

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContactChange:
    """What a contact-details form changed."""

    changed: tuple[str, ...]
    confirmation: EmailConfirmation | None
    phone_code: LoginCode | None = None


@transaction.atomic
def contact_details_update(
    *,
    guest: Guest,
    email: str,
    phone: str,
    language: str,
    resend: bool = False,
    client_ip: str | None = None,
) -> ContactChange:
    """Save the guest's language; send a link for a new e-mail and a code for a new phone.

    Neither contact detail changes here: the e-mail when the guest follows the link
    (``email_confirm``), the phone when he enters the code (``phone_change_confirm``), so
    a typing error — or somebody else's number — never replaces a detail that works; an
    address already waiting for its link gets another only with ``resend``. Raises
    PortalError for a relay or malformed address, a phone a code may not go to, or too
    many mails or codes.
    """
    changed: list[str] = []
    e164 = guest_phone(phone) if phone.strip() else ""
    phone_code = None
    if e164 and e164 != guest.phone:
        pending = selectors.pending_phone_change(guest)
        if pending is not None and pending.phone == e164 and not resend:
            phone_code = pending  # the code is on its way; "send again" asks for another
        else:
            phone_code = phone_change_request(guest=guest, phone=e164, client_ip=client_ip)
            changed.append("phone")
    if language and language != guest.language:
        guest_update(guest=guest, language=language)
        changed.append("language")
    confirmation = None
    wanted = email.strip().lower()
    stored = guest.email.lower()
    pending_email = selectors.pending_email_confirmation(guest)
    if not wanted or (wanted == stored and (guest.email_verified or is_ota_relay_email(stored))):
        pass  # nothing new: a confirmed address, or the relay address the page already flags
    elif pending_email is not None and pending_email.email.lower() == wanted and not resend:
        confirmation = pending_email  # the link is on its way; "send again" asks for another
    else:
        confirmation = email_confirmation_request(
            guest=guest, email=email.strip(), language=guest.language
        )
        changed.append("email")
    return ContactChange(changed=tuple(changed), confirmation=confirmation, phone_code=phone_code)


@transaction.atomic
def phone_change_request(*, guest: Guest, phone: str, client_ip: str | None) -> LoginCode:
    """Text a code to the new number ``phone`` the guest gave; store nothing on his profile yet.

    The code follows the sign-in code's rules (``sendable_number``: mobile, allowed country,
    hourly limits per number and client; a keyed hash, ``CODE_TTL``, ``MAX_ATTEMPTS``) and
    carries no sign-in link. Raises PortalError as ``sendable_number`` does (too many codes:
    "phone_rate_limited").
    """
    try:
        e164 = sendable_number(phone, client_ip=client_ip)
    except PortalError as exc:
        if exc.code != "rate_limited":
            raise
        raise PortalError(exc.messages[0], code="phone_rate_limited") from exc
    now = timezone.now()
    code = new_code()
    row = LoginCode.objects.create(
        purpose=LoginCode.Purpose.PHONE_CHANGE,
        phone=e164,
        client_ip=client_ip or None,
        guest=guest,
        code_hash=code_hash(e164, code),
        created_at=now,
        expires_at=now + conf.CODE_TTL,
    )
    hotel = Hotel.load()
    with translation.override(guest.language):
        text = _(
            "%(code)s is your %(hotel)s code to confirm this number (valid for 10 minutes)"
        ) % {"code": code, "hotel": hotel.name}
    row.message = send_code_sms(row, guest, text, secrets=(code,), language=guest.language)
    row.save(update_fields=["message"])
    return row


def phone_change_confirm(*, guest: Guest, code: str) -> Guest:
    """Store the new number the guest's newest phone-change code was sent to, if ``code`` is it.

    Not one transaction: a wrong code's try must stay used when the refusal is raised.
    Raises PortalError as ``code_use`` does ("no_code" when he asked for no change).
    """
    row = (
        LoginCode.objects.filter(guest=guest, purpose=LoginCode.Purpose.PHONE_CHANGE)
        .order_by("-created_at", "-pk")
        .first()
    )
    code_use(row, code)
    assert row is not None
    return guest_update(guest=guest, phone=row.phone)


@transaction.atomic
def email_confirmation_request(*, guest: Guest, email: str, language: str) -> EmailConfirmation:
    """Mail the guest a link that confirms ``email`` as his address. Raises PortalError."""
    try:
        address = normalise_email(email)
    except ValidationError as exc:
        raise PortalError(_("Please give a valid e-mail address."), code="invalid_email") from exc
    if is_ota_relay_email(address):
        raise PortalError(
            _(
                "This is a relay address of your booking portal. Please give us your own e-mail address."
            ),
            code="relay_email",
        )
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    if (
        guest.portal_email_confirmations.filter(created_at__gt=hour_ago).count()
        >= conf.EMAIL_CONFIRMATIONS_PER_HOUR
    ):
        raise PortalError(
            _("We have sent several links already. Please try again in an hour."),
            code="rate_limited",
        )
    confirmation = EmailConfirmation.objects.create(guest=guest, email=address)
    hotel = Hotel.load()
    token = tokens.email_confirmation_token(confirmation.pk)
    with translation.override(language):
        context = {
            "guest": guest,
            "hotel": hotel,
            "link": links.email_confirmation_url(confirmation, token=token),
            "days": conf.EMAIL_CONFIRMATION_TTL.days,
        }
        subject = _("Please confirm your e-mail address for %(hotel)s") % {"hotel": hotel.name}
        text = render_to_string("portal/email/confirm_email.txt", context)
        html = render_to_string("portal/email/confirm_email.html", context)
    try:
        confirmation.message = message_send(
            steps=Step(
                channel=ContactChannel.EMAIL, to=address, subject=subject, text=text, html=html
            ),
            purpose=ConsentPurpose.SERVICE,
            guest=guest,
            dedupe_key=f"portal:email-confirmation:{confirmation.pk}",
            source=SOURCE,
            language=language,
            secrets=(token,),
        )
    except ValidationError as exc:
        log.exception("The confirmation mail for guest %s could not be queued", guest.pk)
        raise PortalError(
            _("We cannot send e-mail right now. Please try again later."), code="not_sent"
        ) from exc
    confirmation.save(update_fields=["message"])
    return confirmation


@transaction.atomic
def email_confirm(*, token: str) -> Guest:
    """Confirm the address a confirmation link was sent for; return the guest who asked.

    The address becomes that guest's verified e-mail. When another profile already holds
    it, nothing is merged: both profiles now share it, and the staff guest page shows them
    as duplicates for staff to merge if they are one person (G5). Following a link again
    changes nothing. Raises PortalError for a tampered or expired link ("invalid_link") or
    one replaced by a newer link ("superseded").
    """
    try:
        confirmation_id = tokens.read_email_confirmation_token(
            token, max_age=conf.EMAIL_CONFIRMATION_TTL
        )
    except tokens.BadToken as exc:
        raise PortalError(
            _("This confirmation link is not valid or has expired."), code="invalid_link"
        ) from exc
    confirmation = (
        EmailConfirmation.objects.select_for_update()
        .select_related("guest")
        .filter(pk=confirmation_id)
        .first()
    )
    if confirmation is None:
        raise PortalError(
            _("This confirmation link is not valid or has expired."), code="invalid_link"
        )
    if confirmation.confirmed_at is not None:
        return confirmation.guest
    newer = EmailConfirmation.objects.filter(
        guest=confirmation.guest_id, pk__gt=confirmation.pk
    ).exists()
    if newer:
        raise PortalError(
            _("This link was replaced by a newer one. Please use the latest e-mail we sent."),
            code="superseded",
        )
    guest = guest_confirm_contact(
        guest=confirmation.guest, email=confirmation.email, merge_known=False
    )
    confirmation.confirmed_at = timezone.now()
    confirmation.save(update_fields=["confirmed_at"])
    # The guest followed a link mailed to the address: it receives mail again (E2).
    suppressions_clear_confirmed(address=confirmation.email)
    return guest
