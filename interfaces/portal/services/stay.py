"""Consents and companions given on the guest's page (P2, G6)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from guests.contacts import is_ota_relay_email, normalise_email
from guests.models import (
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    Guest,
    Hotel,
    Reservation,
)
from guests.selectors import consent_current
from guests.services import (
    guest_create,
    guest_record_consent,
    reservation_add_companion,
)

from .. import conf, selectors
from .common import PortalError, guest_phone


@transaction.atomic
def consents_update(
    *,
    guest: Guest,
    data_processing: bool,
    marketing: dict[str, bool],
    language: str,
    analytics: bool | None = None,
) -> list[ConsentRecord]:
    """Record each consent the guest changed, with source "guest portal" and the wording he saw.

    A box left as it was writes nothing; an unticked box the guest never ticked is no statement.
    Analytics (opens and clicks counted, E3) is the other way round: counted until refused, so
    its box starts ticked without a record, and only unticking it (or ticking it again after a
    refusal) is a statement. ``analytics`` None leaves it out.
    """
    Guest.objects.select_for_update().filter(pk=guest.pk).first()  # one change at a time per guest
    current = consent_current(guest)
    hotel_name = Hotel.load().name
    wanted = [(ConsentPurpose.DATA_PROCESSING, "", data_processing)]
    wanted += [
        (ConsentPurpose.MARKETING, channel, granted) for channel, granted in marketing.items()
    ]
    if analytics is not None:
        wanted.append((ConsentPurpose.ANALYTICS, "", analytics))
    records = []
    for purpose, channel, granted in wanted:
        record = current.get((purpose, channel))
        now_granted = record.granted if record is not None else None
        if purpose == ConsentPurpose.ANALYTICS and now_granted is None:
            now_granted = True  # counted until refused: ticked is how it already stands
        if now_granted is granted or (not granted and now_granted is None):
            continue  # unchanged, or nothing to withdraw
        with translation.override(language):
            wording = selectors.consent_wording(purpose, language, hotel_name=hotel_name)
        records.append(
            guest_record_consent(
                guest=guest,
                purpose=purpose,
                channel=channel,
                granted=granted,
                source=ConsentSource.GUEST_PORTAL,
                wording_version=wording.version,
                note=f"guest portal ({language})",
            )
        )
    return records


@transaction.atomic
def companion_add(
    *,
    reservation: Reservation,
    booker: Guest,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: str = "",
) -> tuple[Guest, bool]:
    """Put a companion on the booker's stay; return (his profile, whether it was created).

    The companion is always a new profile made of what the booker typed (source "guest
    portal", e-mail not verified, the link marked as added by the booker), never a profile
    found by its e-mail or phone: anyone can type anyone's address, and linking the profile
    that holds it would put a stranger on this stay — her name on the booker's page, this
    stay on her portal page, its messages to her. When the companion is somebody the hotel
    knows, staff see the two profiles as duplicates and merge them (G5). Nothing here looks
    at other profiles, so the answer never tells whether an address is known. A companion
    already on the stay under the same name is reused. Raises PortalError when the guest is
    not the booker, the stay is over or full, for the booker's own contact details, or for
    bad contact details.
    """
    if reservation.booker_id != booker.pk:
        raise PortalError(_("Only the guest who booked can add companions."), code="not_booker")
    if not reservation.is_active_stay:
        raise PortalError(
            _("Companions can only be added to a current or upcoming stay."), code="stay_over"
        )
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name:
        raise PortalError(_("Please give the first name."), code="required")
    address = ""
    if email.strip():
        try:
            address = normalise_email(email)
        except ValidationError as exc:
            raise PortalError(
                _("Please give a valid e-mail address."), code="invalid_email"
            ) from exc
        if is_ota_relay_email(address):
            raise PortalError(
                _(
                    "This is a relay address of your booking portal. Please give us your own e-mail address."
                ),
                code="relay_email",
            )
    e164 = guest_phone(phone) if phone.strip() else ""
    on_stay = list(reservation.companions.all())
    same_name = [
        g
        for g in on_stay
        if (g.first_name.casefold(), g.last_name.casefold())
        == (first_name.casefold(), last_name.casefold())
    ]
    if same_name:
        return same_name[0], False
    if len(on_stay) >= conf.MAX_COMPANIONS:
        raise PortalError(
            _(
                "This stay already has the most companions we can take here. Please contact the hotel."
            ),
            code="too_many",
        )
    if (address and address.lower() == booker.email.lower()) or (e164 and e164 == booker.phone):
        raise PortalError(
            _("These are your own contact details. Please give your companion's."), code="is_booker"
        )
    try:
        companion = guest_create(
            first_name=first_name,
            last_name=last_name,
            email=address,
            phone=e164,
            source=Guest.Source.PORTAL,
            language=booker.language,
        )
    except ValidationError as exc:
        raise PortalError(_("Please check the companion's details."), code="invalid") from exc
    reservation_add_companion(reservation=reservation, guest=companion, added_by=booker)
    return companion, True
