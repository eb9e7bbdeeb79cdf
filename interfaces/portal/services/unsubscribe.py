"""Unsubscribe and opt back in from a signed link (P3)."""

from __future__ import annotations

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from guests.models import ConsentPurpose, ConsentRecord, ConsentSource, Guest, Hotel
from guests.selectors import consent_current
from guests.services import guest_record_consent

from .. import selectors, tokens
from .common import PortalError


def _marketing_wording_version(guest: Guest, language: str) -> str:
    with translation.override(language):
        return selectors.consent_wording(
            ConsentPurpose.MARKETING, language, hotel_name=Hotel.load().name
        ).version


@transaction.atomic
def marketing_unsubscribe(*, guest: Guest, channel: str) -> ConsentRecord | None:
    """Opt the guest out of marketing on ``channel`` at once; a repeated click records nothing new."""
    Guest.objects.select_for_update().filter(pk=guest.pk).first()
    record = consent_current(guest).get((ConsentPurpose.MARKETING, channel))
    if record is not None and not record.granted:
        return None
    return guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel=channel,
        granted=False,
        source=ConsentSource.UNSUBSCRIBE_LINK,
        note="followed the unsubscribe link",
    )


@transaction.atomic
def marketing_resubscribe(*, guest: Guest, channel: str, language: str) -> ConsentRecord | None:
    """Opt the guest back in to marketing on ``channel`` from the unsubscribe page."""
    Guest.objects.select_for_update().filter(pk=guest.pk).first()
    record = consent_current(guest).get((ConsentPurpose.MARKETING, channel))
    if record is not None and record.granted:
        return None
    return guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel=channel,
        granted=True,
        source=ConsentSource.UNSUBSCRIBE_LINK,
        wording_version=_marketing_wording_version(guest, language),
        note=f"opted back in on the unsubscribe page ({language})",
    )


def unsubscribe_token_guest(token: str) -> tuple[Guest, str]:
    """Return the guest and channel an unsubscribe token names. Raises PortalError "invalid_link"."""
    try:
        guest_id, channel = tokens.read_unsubscribe_token(token)
    except tokens.BadToken as exc:
        raise PortalError(_("This link is not valid."), code="invalid_link") from exc
    guest = selectors.guest_following_merges(guest_id)
    if guest is None:
        raise PortalError(_("This link is not valid."), code="invalid_link")
    return guest, channel
