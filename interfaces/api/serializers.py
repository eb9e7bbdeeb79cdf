"""What the API reads and writes: guests, reservations and facility bookings by external id."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_countries import countries
from rest_framework import serializers

from crm_messaging.serializers import (
    Boolean,
    Choice,
    Integer,
    Money,
    Pattern,
    StrictSerializer,
    Text,
)
from guests.models import (
    EXTERNAL_ID_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    ConsentPurpose,
    ContactChannel,
    FacilityBooking,
    Guest,
    Reservation,
)
from guests.selectors import guest_is_greylisted

OUTCOMES = ("created", "updated", "unchanged")
_REF = {"max_length": 20, "help_text": "The code of a reference list item (room types, …)."}


class ConsentIn(StrictSerializer):
    purpose = Choice(choices=ConsentPurpose.choices)
    channel = Choice(
        choices=[("", "—"), *ContactChannel.choices],
        required=False,
        default="",
        help_text="Empty for data-processing consent; a channel for service and marketing.",
    )
    granted = Boolean()
    wording_version = Text(max_length=40, required=False, default="")


class GreylistIn(StrictSerializer):
    reason = Text(max_length=255)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class GuestIn(StrictSerializer):
    """A guest as the PMS knows it; fields left out are left as they are."""

    first_name = Text(max_length=80, required=False)
    last_name = Text(max_length=80, required=False, allow_blank=True)
    email = Text(max_length=254, required=False, allow_blank=True)
    phone = Text(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="Any common form; read in the hotel's country without a country code.",
    )
    language = Choice(choices=settings.GUEST_LANGUAGES, required=False)
    nationality = Choice(choices=[("", "—"), *countries], required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    gender = Choice(choices=Guest.Gender.choices, required=False, allow_blank=True)
    vip_level = Choice(choices=Guest.VipLevel.choices, required=False)
    loyalty_tier = Text(required=False, allow_null=True, **_REF)
    loyalty_number = Text(max_length=40, required=False, allow_blank=True)
    notes = Text(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)
    preferences = Text(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)
    allergens = Text(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)
    warning_note = Text(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)
    outstanding_balance = Money(max_digits=12, decimal_places=2, required=False)
    consents = ConsentIn(
        many=True,
        required=False,
        help_text="Consent statements; each is recorded only when it differs from the current one.",
    )
    greylist = GreylistIn(
        required=False,
        allow_null=True,
        help_text="Put the guest on the greylist (unless he is on it); null lifts it.",
    )


class GuestOut(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    phone_valid = serializers.BooleanField()
    language = serializers.CharField()
    nationality = serializers.CharField()
    greylisted = serializers.BooleanField()


def guest_out(guest: Guest, outcome: str) -> dict[str, Any]:
    return {
        "id": guest.pk,
        "outcome": outcome,
        "first_name": guest.first_name,
        "last_name": guest.last_name,
        "email": guest.email,
        "phone": guest.phone,
        "phone_valid": guest.phone_valid,
        "language": guest.language,
        "nationality": str(guest.nationality or ""),
        "greylisted": guest_is_greylisted(guest),
    }


class ReservationIn(StrictSerializer):
    """A stay as the PMS knows it; fields left out are left as they are."""

    booker = Text(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        required=False,
        help_text="The booker's external id in the same source (required to create).",
    )
    companions = serializers.ListField(
        child=Text(max_length=EXTERNAL_ID_MAX_LENGTH),
        required=False,
        max_length=50,
        help_text="The companions' external ids: the full list (others are taken off).",
    )
    status = Choice(choices=Reservation.Status.choices, required=False)
    cancel_reason = Text(max_length=255, required=False, allow_blank=True)
    arrival = serializers.DateField(required=False)
    departure = serializers.DateField(required=False)
    room_type = Text(required=False, **_REF)
    board_type = Text(required=False, **_REF)
    room_number = Text(max_length=10, required=False, allow_blank=True)
    nightly_rate = Money(max_digits=10, decimal_places=2, min_value=0, required=False)
    total_amount = Money(max_digits=12, decimal_places=2, min_value=0, required=False)
    currency = Pattern(r"^[A-Z]{3}$", required=False)
    agency = Text(required=False, allow_null=True, **_REF)
    market_segment = Text(required=False, allow_null=True, **_REF)
    stay_type = Text(required=False, allow_null=True, **_REF)
    source_channel = Text(required=False, allow_null=True, **_REF)
    external_ref = Text(max_length=64, required=False, allow_blank=True)
    adults = Integer(min_value=1, max_value=99, required=False)
    children = Integer(min_value=0, max_value=99, required=False)
    send_notifications = Boolean(required=False)
    notes = Text(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)


class ReservationOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    status = serializers.ChoiceField(choices=Reservation.Status.choices)
    booker = serializers.IntegerField()
    arrival = serializers.DateField()
    departure = serializers.DateField()
    nights = serializers.IntegerField()
    room_number = serializers.CharField()


def reservation_out(reservation: Reservation, outcome: str) -> dict[str, Any]:
    return {
        "id": reservation.pk,
        "number": reservation.number,
        "outcome": outcome,
        "status": reservation.status,
        "booker": reservation.booker_id,
        "arrival": reservation.arrival,
        "departure": reservation.departure,
        "nights": reservation.nights,
        "room_number": reservation.room_number,
    }


class FacilityBookingIn(StrictSerializer):
    guest = Text(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        required=False,
        help_text="The guest's external id in the same source (required to create).",
    )
    facility = Text(max_length=100, required=False, help_text="Its name.")
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    party_size = Integer(min_value=1, max_value=999, required=False)
    reservation = Text(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        required=False,
        allow_null=True,
        help_text="The stay's external id in the same source.",
    )
    notes = Text(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)
    status = Choice(choices=FacilityBooking.Status.choices, required=False)


class FacilityBookingOut(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    status = serializers.ChoiceField(choices=FacilityBooking.Status.choices)
    guest = serializers.IntegerField()
    starts_at = serializers.DateTimeField()


def facility_booking_out(booking: FacilityBooking, outcome: str) -> dict[str, Any]:
    return {
        "id": booking.pk,
        "outcome": outcome,
        "status": booking.status,
        "guest": booking.guest_id,
        "starts_at": booking.starts_at,
    }
