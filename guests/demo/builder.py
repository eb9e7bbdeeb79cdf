"""Write a demo plan through the CRM services, and tell whether a database already holds one.

Every row is made by the service staff would use (guest_create, reservation_check_in …), so
the signals fire and the audit rows exist. Two things the services cannot do are done here
directly: the hotel's business date is moved to each past day while that day's transitions
run (as the night audit would have), and the timestamps the services set to "now" are moved
back to when the plan says things happened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from ..models import (
    Agency,
    BoardType,
    ConsentRecord,
    Facility,
    FacilityBooking,
    GreylistEntry,
    Guest,
    Hotel,
    LoyaltyTier,
    MarketSegment,
    NightAudit,
    Reservation,
    ReservationStatusChange,
    RoomType,
    SourceChannel,
    StayType,
)
from ..services import (
    facility_booking_create,
    facility_booking_set_status,
    greylist_lift,
    guest_confirm_contact,
    guest_create,
    guest_greylist,
    guest_record_consent,
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_create,
    reservation_mark_no_show,
)
from .plan import SEED, build_plan
from .records import Greylisting, Plan, Stay

Status = Reservation.Status

DEMO_HOTEL: dict[str, str] = {
    "name": "Hotel Lykia Bay",
    "address": "Lara Caddesi No. 412, Güzeloba\n07230 Muratpaşa / Antalya\nTürkiye",
    "phone": "+902423241500",
    # Reserved example domains (RFC 2606): the demo can never mail a real address.
    "email": "reservations@lykiabay.example",
    "website": "https://www.lykiabay.example",
}
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
OTHER_DATA_MESSAGE = (
    "This database holds guests or stays that are not the demo's (the hotel is not "
    f"“{DEMO_HOTEL['name']}”). seed_demo only fills an empty database or rebuilds its own demo."
)


class DemoError(Exception):
    """The demo cannot be built here; the message says why."""


def demo_state() -> str:
    """Return "empty" (no guests or stays), "demo" (the demo hotel's data) or "other"."""
    if not (Guest.objects.exists() or Reservation.objects.exists()):
        return "empty"
    name = Hotel.objects.filter(pk=1).values_list("name", flat=True).first()
    return "demo" if name == DEMO_HOTEL["name"] else "other"


def demo_reset() -> None:
    """Delete every guest, stay, facility booking and night audit of the demo hotel.

    Raises DemoError when the database is not the demo's, or when rows of other apps
    (e.g. sent messages) protect the guests.
    """
    if demo_state() == "other":
        raise DemoError(OTHER_DATA_MESSAGE)
    try:
        with transaction.atomic():
            FacilityBooking.objects.all().delete()
            Reservation.objects.all().delete()
            # The demo wipes its own consent history on purpose; real guests' consent records
            # are protected from deletion (ConsentRecord.guest is PROTECT).
            if connection.vendor == "postgresql":
                # The append-only trigger lets this one transaction delete (migration 0006).
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL crm.consent_wipe = 'demo'")
            ConsentRecord.objects.all().delete()
            # Greylist entries and merge audits go with their guests.
            Guest.objects.all().delete()
            NightAudit.objects.all().delete()
    except (ProtectedError, RestrictedError) as exc:
        kinds = sorted({obj._meta.verbose_name_plural for obj in exc.args[1]})
        raise DemoError(
            f"Cannot delete the demo guests: {', '.join(map(str, kinds))} still refer to them."
        ) from exc


def demo_user(*, reset_password: bool) -> tuple[Any, bool]:
    """Return the demo superuser, creating it if missing; (user, created)."""
    User = get_user_model()
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        return User.objects.create_superuser(
            DEMO_USERNAME, "demo@lykiabay.example", DEMO_PASSWORD
        ), True
    if reset_password:
        user.set_password(DEMO_PASSWORD)
        user.is_active = user.is_staff = user.is_superuser = True
        user.save()
    return user, False


def demo_build(
    *, today: dt.date | None = None, now: dt.datetime | None = None, seed: int = SEED
) -> Plan:
    """Build the demo hotel in an empty database for ``today``; raise DemoError if not empty."""
    if demo_state() != "empty":
        raise DemoError("The database already holds guests or stays; reset it first.")
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    plan = build_plan(today=today, now=now, seed=seed)
    with transaction.atomic():
        call_command("load_reference_data", verbosity=0)
        hotel = Hotel.load()
        Hotel.objects.filter(pk=hotel.pk).update(business_date=today, **DEMO_HOTEL)
        _Writer(plan, hotel.pk).write()
        Hotel.objects.filter(pk=hotel.pk).update(business_date=today)
    return plan


def _by_code(model: Any) -> dict[str, Any]:
    return {obj.code: obj for obj in model.objects.all()}


class _Writer:
    def __init__(self, plan: Plan, hotel_pk: int) -> None:
        self.plan = plan
        self.hotel_pk = hotel_pk
        self.business_date = plan.today
        self.guests: dict[int, Guest] = {}
        self.reservations: dict[int, Reservation] = {}
        self.rooms = _by_code(RoomType)
        self.boards = _by_code(BoardType)
        self.agencies = _by_code(Agency)
        self.segments = _by_code(MarketSegment)
        self.stay_types = _by_code(StayType)
        self.channels = _by_code(SourceChannel)
        self.tiers = _by_code(LoyaltyTier)
        self.facilities = {f.name: f for f in Facility.objects.all()}
        self.greylist: list[tuple[GreylistEntry, Greylisting]] = []
        self.visits: list[tuple[FacilityBooking, dt.datetime]] = []
        self.now = timezone.now()

    def write(self) -> None:
        self.write_guests()
        self.write_stays()
        self.write_consents()
        self.write_greylist()
        self.confirm_contacts()
        self.write_visits()
        self.backdate()

    def on(self, day: dt.date) -> None:
        """Make ``day`` the business date, as it was when the next step happened."""
        if day != self.business_date:
            Hotel.objects.filter(pk=self.hotel_pk).update(business_date=day)
            self.business_date = day

    def write_guests(self) -> None:
        for person in self.plan.people:
            profile = person.profile()
            if person.loyalty_tier:
                profile["loyalty_tier"] = self.tiers[person.loyalty_tier]
            self.guests[person.key] = guest_create(
                first_name=person.first_name,
                email=person.email,
                phone=person.phone,
                strict_phone=person.strict_phone,
                **profile,
            )

    def write_stays(self) -> None:
        # In booking order, so confirmation numbers grow with time as they would have.
        for stay in sorted(self.plan.stays, key=lambda s: (s.booked_on, s.created_at or self.now)):
            self.on(stay.booked_on)
            reservation = reservation_create(
                booker=self.guests[stay.booker.key],
                arrival=stay.arrival,
                departure=stay.departure,
                room_type=self.rooms[stay.room_type],
                board_type=self.boards[stay.board_type],
                companions=[self.guests[c.key] for c in stay.companions],
                send_notifications=stay.send_notifications,
                nightly_rate=stay.nightly_rate,
                agency=self.agencies.get(stay.agency),
                market_segment=self.segments.get(stay.market_segment),
                stay_type=self.stay_types.get(stay.stay_type),
                source_channel=self.channels.get(stay.source_channel),
                external_ref=stay.external_ref,
                adults=stay.adults,
                children=stay.children,
                notes=stay.notes,
                room_number=stay.room_number if stay.outcome == Status.CONFIRMED else "",
            )
            self.reservations[id(stay)] = reservation
            self.transition(stay, reservation)

    def transition(self, stay: Stay, reservation: Reservation) -> None:
        if stay.outcome in (Status.CHECKED_IN, Status.CHECKED_OUT):
            self.on(stay.arrival)
            reservation_check_in(reservation=reservation, room_number=stay.room_number)
        if stay.outcome == Status.CHECKED_OUT:
            self.on(stay.departure)
            reservation_check_out(reservation=reservation)
        elif stay.outcome == Status.CANCELLED:
            self.on(stay.cancel_on or stay.booked_on)
            reservation_cancel(reservation=reservation, reason=stay.cancel_reason)
        elif stay.outcome == Status.NO_SHOW:
            self.on(stay.arrival)
            reservation_mark_no_show(reservation=reservation, note="night audit")

    def write_consents(self) -> None:
        for person in self.plan.people:
            guest = self.guests[person.key]
            for consent in person.consents:
                guest_record_consent(
                    guest=guest,
                    purpose=consent.purpose,
                    channel=consent.channel,
                    granted=consent.granted,
                    source=consent.source,
                    wording_version=consent.wording_version,
                    note=consent.note,
                    at=consent.at,
                )

    def write_greylist(self) -> None:
        for person in self.plan.people:
            for item in person.greylist:
                # The service rightly refuses an expiry in the past; an expired entry is made
                # with a future one and moved back with the other timestamps.
                expires = (
                    item.expires
                    if item.expires is None or item.expires > self.now
                    else self.now + dt.timedelta(days=1)
                )
                entry = guest_greylist(
                    guest=self.guests[person.key], reason=item.reason, expires_at=expires
                )
                if item.lifted is not None:
                    entry = greylist_lift(entry=entry, reason=item.lift_reason)
                self.greylist.append((entry, item))

    def confirm_contacts(self) -> None:
        for person in self.plan.people:
            if person.verify_email:
                self.guests[person.key] = guest_confirm_contact(
                    guest=self.guests[person.key], email=person.email
                )
        for duplicate, known in self.plan.merges:
            # The guest proves on the portal that the OTA profile's owner has the known e-mail.
            survivor = guest_confirm_contact(guest=self.guests[duplicate.key], email=known.email)
            self.guests[duplicate.key] = survivor

    def write_visits(self) -> None:
        for visit in self.plan.visits:
            reservation = self.reservations.get(id(visit.stay)) if visit.stay is not None else None
            booking = facility_booking_create(
                guest=self.guests[visit.guest.key],
                facility=self.facilities[visit.facility],
                starts_at=visit.starts_at,
                ends_at=visit.starts_at + dt.timedelta(minutes=visit.minutes),
                party_size=visit.party_size,
                reservation=reservation,
                notes=visit.notes,
            )
            if visit.status != FacilityBooking.Status.BOOKED:
                facility_booking_set_status(booking=booking, status=visit.status)
            if visit.created_at is not None:
                self.visits.append((booking, visit.created_at))

    def backdate(self) -> None:
        """Move the services' "now" stamps back to when the plan says each step happened."""
        stamps: dict[int, Stay] = {}
        reservations = []
        for stay in self.plan.stays:
            pk = self.reservations[id(stay)].pk
            stamps[pk] = stay
            reservations.append(
                Reservation(
                    pk=pk,
                    created_at=stay.created_at or self.now,
                    checked_in_at=stay.checked_in_at,
                    checked_out_at=stay.checked_out_at,
                    cancelled_at=stay.cancelled_at,
                )
            )
        Reservation.objects.bulk_update(
            reservations, ["created_at", "checked_in_at", "checked_out_at", "cancelled_at"]
        )
        by_action = {
            "create": "created_at",
            "check_in": "checked_in_at",
            "check_out": "checked_out_at",
            "cancel": "cancelled_at",
            "no_show": "cancelled_at",
        }
        changes = []
        for change in ReservationStatusChange.objects.filter(reservation__in=stamps).only(
            "pk", "reservation", "action"
        ):
            at = getattr(stamps[change.reservation_id], by_action.get(change.action, ""), None)
            if at is not None:
                change.at = at
                changes.append(change)
        ReservationStatusChange.objects.bulk_update(changes, ["at"])
        created: dict[int, dt.datetime] = {}
        for person in self.plan.people:
            # A merged-away profile now points at its survivor, which keeps the earlier date.
            pk = self.guests[person.key].pk
            if person.created_at is not None:
                created[pk] = min(person.created_at, created.get(pk, person.created_at))
        Guest.objects.bulk_update(
            [Guest(pk=pk, created_at=at) for pk, at in created.items()], ["created_at"]
        )
        for entry, item in self.greylist:
            GreylistEntry.objects.filter(pk=entry.pk).update(
                created_at=item.created, expires_at=item.expires, lifted_at=item.lifted
            )
        FacilityBooking.objects.bulk_update(
            [FacilityBooking(pk=b.pk, created_at=at) for b, at in self.visits], ["created_at"]
        )
