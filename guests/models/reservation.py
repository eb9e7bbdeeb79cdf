"""Stays (G2), their status history (G4) and facility bookings (G3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .guest import Guest

EARLIEST_ARRIVAL = dt.date(2000, 1, 1)
MAX_NIGHTS = 365


def stay_errors(
    *,
    arrival: dt.date | None,
    departure: dt.date | None,
    nightly_rate: Decimal | None = None,
    adults: int | None = None,
) -> dict[str, list[str]]:
    """What is wrong with a stay's dates, rate and party, by field (empty: nothing).

    The one rule for every way a stay is made or changed: the model's ``clean`` (the admin),
    the front desk's form and the reservation services. The database's check constraints hold
    the same lines, so a refusal here is what staff read instead of a constraint's name.
    """
    errors: dict[str, list[str]] = {}
    if arrival is not None and arrival < EARLIEST_ARRIVAL:
        errors["arrival"] = [
            str(_("The arrival cannot be before %(date)s."))
            % {"date": f"{EARLIEST_ARRIVAL:%d.%m.%Y}"}
        ]
    if arrival is not None and departure is not None:
        if departure <= arrival:
            errors["departure"] = [str(_("Departure must be at least one night after arrival."))]
        elif (departure - arrival).days > MAX_NIGHTS:
            errors["departure"] = [
                str(_("A stay can last at most %(nights)s nights; this one has %(asked)s."))
                % {"nights": MAX_NIGHTS, "asked": (departure - arrival).days}
            ]
    if nightly_rate is not None and nightly_rate < 0:
        errors["nightly_rate"] = [str(_("The nightly rate cannot be negative."))]
    if adults is not None and adults < 1:
        errors["adults"] = [str(_("A stay needs at least one adult."))]
    return errors


class Reservation(models.Model):
    """A stay: a booker, companions, dates, room and commercial details."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CHECKED_IN = "checked_in", _("Checked in")
        CHECKED_OUT = "checked_out", _("Checked out")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    booker = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="reservations")
    companions = models.ManyToManyField(
        Guest,
        through="ReservationCompanion",
        through_fields=("reservation", "guest"),
        related_name="companion_reservations",
        blank=True,
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    arrival = models.DateField()
    departure = models.DateField()
    # Derived from the dates on every save; stored so audiences can filter on it in SQL.
    nights = models.PositiveSmallIntegerField(editable=False)
    room_type = models.ForeignKey("guests.RoomType", on_delete=models.PROTECT, related_name="+")
    room_number = models.CharField(max_length=10, blank=True)
    nightly_rate = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    total_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="EUR")
    agency = models.ForeignKey(
        "guests.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    market_segment = models.ForeignKey(
        "guests.MarketSegment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    board_type = models.ForeignKey("guests.BoardType", on_delete=models.PROTECT, related_name="+")
    stay_type = models.ForeignKey(
        "guests.StayType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_channel = models.ForeignKey(
        "guests.SourceChannel", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    external_ref = models.CharField("channel booking reference", max_length=64, blank=True)
    adults = models.PositiveSmallIntegerField(default=1)
    children = models.PositiveSmallIntegerField(default=0)
    send_notifications = models.BooleanField(
        default=True,
        help_text="Automatic messages (confirmation, reminders, surveys) go to this stay's guests.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    checked_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    checked_out_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancel_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ("-arrival", "-pk")
        indexes = [
            models.Index(fields=("arrival", "status"), name="reservation_arrival_idx"),
            models.Index(fields=("departure", "status"), name="reservation_departure_idx"),
            models.Index(fields=("status",), name="reservation_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(departure__gt=F("arrival")), name="reservation_departs_after_arrival"
            ),
            models.CheckConstraint(condition=Q(adults__gte=1), name="reservation_has_an_adult"),
            models.CheckConstraint(
                condition=Q(nightly_rate__gte=0), name="reservation_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.booker} {self.arrival:%d.%m}–{self.departure:%d.%m.%Y}"

    def save(self, *args, **kwargs) -> None:
        if self.arrival and self.departure:
            self.nights = max((self.departure - self.arrival).days, 0)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = stay_errors(
            arrival=self.arrival,
            departure=self.departure,
            nightly_rate=self.nightly_rate,
            adults=self.adults,
        )
        if errors:
            raise ValidationError(errors)

    @property
    def number(self) -> str:
        """The confirmation number staff and guests quote."""
        return f"R{self.pk:07d}" if self.pk else "R(new)"

    @property
    def is_active_stay(self) -> bool:
        return self.status in (self.Status.CONFIRMED, self.Status.CHECKED_IN)

    def guests(self) -> list[Guest]:
        """Return the booker followed by the companions."""
        return [self.booker, *self.companions.all()]


class ReservationCompanion(models.Model):
    """A guest staying on someone else's reservation."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="companion_links"
    )
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="companion_links")
    added_at = models.DateTimeField(default=timezone.now)
    # A guest's own word about who travels with him is not proof of who that person is:
    # the profile he describes is a new one, which staff merge when it is someone they know.
    added_by = models.ForeignKey(
        Guest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="companions_added",
        editable=False,
        help_text="The guest who put this companion on the stay in the guest portal "
        "(empty when staff, an import or the hotel's systems did).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("reservation", "guest"), name="companion_once_per_reservation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guest} on {self.reservation.number}"


class ReservationStatusChange(models.Model):
    """Audit row for every reservation transition and modification: who, when, what."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="status_changes"
    )
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    business_date = models.DateField()
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-at", "-pk")

    def __str__(self) -> str:
        return f"{self.reservation.number}: {self.action}"


class FacilityBooking(models.Model):
    """A spa, restaurant or event booking; linked to a guest and optionally to a stay (G3)."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ATTENDED = "attended", _("Attended")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    guest = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="facility_bookings")
    reservation = models.ForeignKey(
        Reservation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facility_bookings",
    )
    facility = models.ForeignKey(
        "guests.Facility", on_delete=models.PROTECT, related_name="bookings"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    party_size = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("starts_at",)
        indexes = [models.Index(fields=("starts_at", "status"), name="facility_booking_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="facility_booking_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(party_size__gte=1), name="facility_booking_party_size_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility} {timezone.localtime(self.starts_at):%d.%m.%Y %H:%M} {self.guest}"
