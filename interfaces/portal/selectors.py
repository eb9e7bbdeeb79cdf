"""Reads of the guest portal: whose stay, which wording, what to export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from channels_out.models import ChannelAccount
from channels_out.selectors import address_suppressed
from guests.contacts import is_ota_relay_email, relay_domains
from guests.models import (
    ConsentPurpose,
    ConsentRecord,
    ConsentWording,
    ContactChannel,
    Guest,
    GuestMerge,
    Reservation,
    ReservationCompanion,
)
from guests.selectors import messageable_guests

from .conf import EMAIL_CONFIRMATION_TTL, MAX_ATTEMPTS
from .models import EmailConfirmation, LoginCode

# The version recorded with a consent given on the built-in wording (no ConsentWording row).
BUILTIN_WORDING_VERSION = "portal-builtin-1"


def _active_stay_filter(guest: OuterRef | Guest) -> Q:
    today = timezone.localdate()
    on_it = Q(booker=guest) | Q(companion_links__guest=guest)
    upcoming = Q(status=Reservation.Status.CONFIRMED, departure__gte=today)
    return on_it & (upcoming | Q(status=Reservation.Status.CHECKED_IN))


def guest_stays(guest: Guest) -> QuerySet[Reservation]:
    """The guest's current and upcoming stays (as booker or companion), soonest first."""
    return (
        Reservation.objects.filter(_active_stay_filter(guest))
        .select_related("room_type", "board_type", "booker")
        .distinct()
        .order_by("arrival", "pk")
    )


def guest_for_login(phone: str) -> Guest | None:
    """Return the guest with this (E.164) number and a current or upcoming stay, if any.

    When several profiles share the number, the one whose stay comes first signs in — but a
    profile another guest made in the portal by typing this number for a companion comes
    after the others: its number is somebody's word, not the holder's own booking.
    """
    stays = Reservation.objects.filter(_active_stay_filter(OuterRef("pk")))
    candidates = Guest.objects.filter(phone=phone, phone_valid=True).filter(Exists(stays))
    first_arrival = Subquery(stays.order_by("arrival").values("arrival")[:1])
    described = Q(source=Guest.Source.PORTAL) & Exists(
        ReservationCompanion.objects.filter(guest=OuterRef("pk"), added_by__isnull=False)
    )
    return (
        candidates.annotate(first_arrival=first_arrival, described=described)
        .order_by("described", "first_arrival", "pk")
        .first()
    )


def guest_following_merges(guest_id: int) -> Guest | None:
    """Return the guest, or the profile he was merged into (a link may outlive a merge)."""
    seen: set[int] = set()
    while guest_id not in seen:
        seen.add(guest_id)
        guest = Guest.objects.filter(pk=guest_id).first()
        if guest is not None:
            return guest
        merge = GuestMerge.objects.filter(source_guest_id=guest_id).order_by("-merged_at").first()
        if merge is None:
            return None
        guest_id = merge.target_id
    return None


@dataclass(frozen=True)
class Wording:
    """The text a guest is shown for a consent, and the version recorded with his answer."""

    version: str
    text: str


def _builtin_wording(purpose: str, hotel_name: str) -> str:
    if purpose == ConsentPurpose.DATA_PROCESSING:
        return gettext(
            "I agree that %(hotel)s stores and processes my personal data to prepare and manage my stay, "
            "as described in the hotel's privacy notice (GDPR/KVKK)."
        ) % {"hotel": hotel_name}
    if purpose == ConsentPurpose.ANALYTICS:
        return gettext(
            "%(hotel)s may count when I open its e-mails or click their links, to send me "
            "better messages. Untick the box and my opens and clicks are not tracked."
        ) % {"hotel": hotel_name}
    return gettext(
        "I would like to receive offers and news from %(hotel)s by the channels I tick. "
        "I can withdraw this at any time with the link in every message."
    ) % {"hotel": hotel_name}


def consent_wording(purpose: str, language: str, *, hotel_name: str) -> Wording:
    """The newest published wording of ``purpose`` in ``language`` (else the hotel's, else English).

    Without a wording in the database the portal's own, translated text is used, recorded as
    ``BUILTIN_WORDING_VERSION``.
    """
    published = ConsentWording.objects.filter(purpose=purpose, published_at__lte=timezone.now())
    for candidate in dict.fromkeys([language, settings.HOTEL_DEFAULT_LANGUAGE, "en"]):
        wording = published.filter(language=candidate).order_by("-published_at", "-pk").first()
        if wording is not None:
            return Wording(version=wording.version, text=wording.text)
    return Wording(version=BUILTIN_WORDING_VERSION, text=_builtin_wording(purpose, hotel_name))


def marketing_channels() -> list[str]:
    """The channels a guest can opt in to: e-mail and SMS, WhatsApp and Viber if the hotel uses them."""
    used = set(ChannelAccount.objects.filter(is_active=True).values_list("channel", flat=True))
    return [
        c
        for c in ContactChannel.values
        if c in (ContactChannel.EMAIL, ContactChannel.SMS) or c in used
    ]


def pending_email_confirmation(guest: Guest) -> EmailConfirmation | None:
    """The address the guest asked to confirm last, if he has not confirmed it yet and the link still works."""
    latest = guest.portal_email_confirmations.order_by("-created_at", "-pk").first()
    if latest is None or latest.confirmed_at is not None:
        return None
    if latest.created_at < timezone.now() - EMAIL_CONFIRMATION_TTL:
        return None
    return latest


def pending_phone_change(guest: Guest) -> LoginCode | None:
    """The new number the guest was texted a code for last, while that code can still be entered."""
    latest = (
        LoginCode.objects.filter(guest=guest, purpose=LoginCode.Purpose.PHONE_CHANGE)
        .order_by("-created_at", "-pk")
        .first()
    )
    if (
        latest is None
        or latest.used_at is not None
        or latest.is_expired()
        or latest.attempts >= MAX_ATTEMPTS
    ):
        return None
    return latest


def email_state(guest: Guest) -> str:
    """How the guest's stored address stands: "missing", "relay", "unverified" or "verified"."""
    if not guest.email:
        return "missing"
    if is_ota_relay_email(guest.email):
        return "relay"
    return "verified" if guest.email_verified else "unverified"


def relay_portal_name(email: str) -> str:
    """The booking portal behind a relay address, for the guest to recognise ("booking.com")."""
    domain = email.rsplit("@", 1)[-1].lower()
    for relay in relay_domains():
        if domain == relay or domain.endswith("." + relay):
            parts = relay.split(".")
            return ".".join(parts[-2:])
    return domain


def _latest_record(purpose: str, channel: str) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(
        guest=OuterRef("pk"), purpose=purpose, channel=channel
    ).order_by("-recorded_at", "-pk")


NEWSLETTER_FIELDS = ("email", "first_name", "last_name", "language", "nationality", "consent_at")


def newsletter_rows() -> QuerySet[Guest, tuple[Any, ...]]:
    """Guests a newsletter tool may write to, as ``NEWSLETTER_FIELDS`` tuples in id order.

    The consent and greylist rule of the CRM core decides (withdrawn data-processing consent,
    an opt-out or a greylist entry keep a guest out; marketing needs a current opt-in for
    e-mail); guests without an address or with a booking portal's relay address are left
    out, and so are suppressed addresses (they bounced). ``consent_at`` is when the guest gave the consent in force.
    """
    relay = Q()
    for domain in relay_domains():
        relay |= Q(email__iendswith="@" + domain) | Q(email__iendswith="." + domain)
    guests = messageable_guests(
        Guest.objects.exclude(email=""),
        purpose=ConsentPurpose.MARKETING,
        channel=ContactChannel.EMAIL,
    )
    consent_at = Subquery(
        _latest_record(ConsentPurpose.MARKETING, ContactChannel.EMAIL).values("recorded_at")[:1]
    )
    return (
        guests.exclude(relay)
        # An address that bounced is not handed to a newsletter tool either (E2).
        .alias(email_lower=Lower("email"))
        .exclude(address_suppressed(OuterRef("email_lower")))
        .annotate(consent_at=consent_at)
        .order_by("pk")
        .values_list(*NEWSLETTER_FIELDS)
    )


def consent_history(guest: Guest) -> QuerySet[ConsentRecord]:
    """Every consent statement of the guest, oldest first (GDPR access request)."""
    return guest.consent_records.select_related("recorded_by").order_by("recorded_at", "pk")
