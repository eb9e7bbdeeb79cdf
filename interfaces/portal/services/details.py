"""The guest's contact details (P2, G5): phone, language, and the e-mail he confirms by a link."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels_out.services import Step, message_send
from guests.contacts import is_ota_relay_email, normalise_email
from guests.models import ConsentPurpose, ContactChannel, Guest, Hotel
from guests.selectors import guest_find_existing
from guests.services import guest_confirm_contact, guest_merge, guest_update

from .. import conf, links, selectors, tokens
from ..models import EmailConfirmation
from .common import SOURCE, PortalError, guest_phone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContactChange:
    """What a contact-details form changed."""

    changed: tuple[str, ...]
    confirmation: EmailConfirmation | None


@transaction.atomic
def contact_details_update(
    *, guest: Guest, email: str, phone: str, language: str, resend: bool = False
) -> ContactChange:
    """Save the guest's phone and language; send a confirmation link for a new or unconfirmed e-mail.

    The e-mail address changes only when the guest follows the link (``email_confirm``), so a
    typing error never replaces an address that works; an address already waiting for its
    link gets another only with ``resend``. Raises PortalError for a relay or
    malformed address, an invalid phone number or too many confirmation mails.
    """
    changed: list[str] = []
    updates: dict[str, Any] = {}
    e164 = guest_phone(phone) if phone.strip() else ""
    if e164 and e164 != guest.phone:
        updates["phone"] = e164
    if language and language != guest.language:
        updates["language"] = language
    if updates:
        guest_update(guest=guest, **updates)
        changed.extend(updates)
    confirmation = None
    wanted = email.strip().lower()
    stored = guest.email.lower()
    pending = selectors.pending_email_confirmation(guest)
    if not wanted or (wanted == stored and (guest.email_verified or is_ota_relay_email(stored))):
        pass  # nothing new: a confirmed address, or the relay address the page already flags
    elif pending is not None and pending.email.lower() == wanted and not resend:
        confirmation = pending  # the link is on its way; "send again" asks for another
    else:
        confirmation = email_confirmation_request(
            guest=guest, email=email.strip(), language=guest.language
        )
        changed.append("email")
    return ContactChange(changed=tuple(changed), confirmation=confirmation)


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
    with translation.override(language):
        context = {
            "guest": guest,
            "hotel": hotel,
            "link": links.email_confirmation_url(confirmation),
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
    """Confirm the address a confirmation link was sent for; return the guest's (surviving) profile.

    The address becomes the guest's verified e-mail; when another profile already holds it
    verified, the guest's profile (e.g. from an OTA booking) is merged into that one (G5).
    Following a link again changes nothing. Raises PortalError for a tampered or expired
    link ("invalid_link") or one replaced by a newer link ("superseded").
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
    guest = confirmation.guest
    existing = guest_find_existing(email=confirmation.email)
    if existing is not None and existing.pk != guest.pk:
        # Merged here rather than inside guest_confirm_contact, which saves its copy of the
        # surviving profile from before the merge and so loses what the merge filled in.
        guest_merge(source=guest, target=existing, reason="guest confirmed a known contact detail")
        guest = Guest.objects.get(pk=existing.pk)
    guest = guest_confirm_contact(guest=guest, email=confirmation.email)
    confirmation.guest = guest
    confirmation.confirmed_at = timezone.now()
    confirmation.save(update_fields=["guest", "confirmed_at"])
    return guest
