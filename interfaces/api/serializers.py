"""What the API reads and writes: guests, reservations and facility bookings by external id."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_countries import countries
from rest_framework import serializers

from guests.models import (
    EXTERNAL_ID_MAX_LENGTH,
    ConsentPurpose,
    ContactChannel,
    FacilityBooking,
    Guest,
    Reservation,
)
from guests.selectors import guest_is_greylisted

OUTCOMES = ("created", "updated", "unchanged")
_REF = {"max_length": 20, "help_text": "The code of a reference list item (room types, …)."}


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (a typo is an error, not silently ignored)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class ConsentIn(StrictSerializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    channel = serializers.ChoiceField(
        choices=[("", "—"), *ContactChannel.choices],
        required=False,
        default="",
        help_text="Empty for data-processing consent; a channel for service and marketing.",
    )
    granted = serializers.BooleanField()
    wording_version = serializers.CharField(max_length=40, required=False, default="")


class GreylistIn(StrictSerializer):
    reason = serializers.CharField(max_length=255)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class GuestIn(StrictSerializer):
    """A guest as the PMS knows it; fields left out are left as they are."""

    first_name = serializers.CharField(max_length=80, required=False)
    last_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="Any common form; read in the hotel's country without a country code.",
    )
    language = serializers.ChoiceField(choices=settings.GUEST_LANGUAGES, required=False)
    nationality = serializers.ChoiceField(
        choices=[("", "—"), *countries], required=False, allow_blank=True
    )
    birth_date = serializers.DateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=Guest.Gender.choices, required=False, allow_blank=True)
    vip_level = serializers.ChoiceField(choices=Guest.VipLevel.choices, required=False)
    loyalty_tier = serializers.CharField(required=False, allow_null=True, **_REF)
    loyalty_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    preferences = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    allergens = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    warning_note = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    outstanding_balance = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
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

    booker = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        required=False,
        help_text="The booker's external id in the same source (required to create).",
    )
    companions = serializers.ListField(
        child=serializers.CharField(max_length=EXTERNAL_ID_MAX_LENGTH),
        required=False,
        max_length=50,
        help_text="The companions' external ids: the full list (others are taken off).",
    )
    status = serializers.ChoiceField(choices=Reservation.Status.choices, required=False)
    cancel_reason = serializers.CharField(max_length=255, required=False, allow_blank=True)
    arrival = serializers.DateField(required=False)
    departure = serializers.DateField(required=False)
    room_type = serializers.CharField(required=False, **_REF)
    board_type = serializers.CharField(required=False, **_REF)
    room_number = serializers.CharField(max_length=10, required=False, allow_blank=True)
    nightly_rate = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False
    )
    total_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    agency = serializers.CharField(required=False, allow_null=True, **_REF)
    market_segment = serializers.CharField(required=False, allow_null=True, **_REF)
    stay_type = serializers.CharField(required=False, allow_null=True, **_REF)
    source_channel = serializers.CharField(required=False, allow_null=True, **_REF)
    external_ref = serializers.CharField(max_length=64, required=False, allow_blank=True)
    adults = serializers.IntegerField(min_value=1, max_value=99, required=False)
    children = serializers.IntegerField(min_value=0, max_value=99, required=False)
    send_notifications = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


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
    guest = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        required=False,
        help_text="The guest's external id in the same source (required to create).",
    )
    facility = serializers.CharField(max_length=100, required=False, help_text="Its name.")
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    party_size = serializers.IntegerField(min_value=1, max_value=999, required=False)
    reservation = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        required=False,
        allow_null=True,
        help_text="The stay's external id in the same source.",
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    status = serializers.ChoiceField(choices=FacilityBooking.Status.choices, required=False)


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
