"""The guest profile (G1), greylist (G7) and merge audit (G5)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractDay, ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


def _default_language() -> str:
    return settings.HOTEL_DEFAULT_LANGUAGE


# The longest note, preference, allergen list or warning note a profile keeps: a page of text
# staff can read where the guest appears. The services check it (``full_clean``); the forms
# and the API take their limit from here.
NOTE_MAX_LENGTH = 10_000
_NOTE_LIMIT = MaxLengthValidator(NOTE_MAX_LENGTH)


class Guest(models.Model):
    """A person the hotel knows; may exist without any booking."""

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Not given")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    class VipLevel(models.IntegerChoices):
        NONE = 0, "—"
        VIP = 1, "VIP"
        VIP2 = 2, "VIP 2"
        VVIP = 3, "VVIP"

    class Source(models.TextChoices):
        STAFF = "staff", _("Entered by staff")
        IMPORT = "import", _("Imported")
        OTA = "ota", _("OTA booking")
        PORTAL = "portal", _("Guest portal")
        EXTERNAL = "external", _("From the hotel's systems (API, PMS)")

    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, blank=True)
    email = models.EmailField(blank=True)
    email_verified = models.BooleanField(
        default=False,
        help_text="The guest proved the address is his (never true for OTA relay addresses).",
    )
    # E.164 when valid. An import may carry a number we cannot read: it is kept as given,
    # with phone_valid off, so staff can see and fix it and nothing is ever sent to it.
    phone = models.CharField(
        max_length=32, blank=True, help_text="Stored in E.164 form, e.g. +905321234567."
    )
    phone_valid = models.BooleanField(default=False, editable=False)
    language = models.CharField(
        max_length=8, choices=settings.GUEST_LANGUAGES, default=_default_language
    )
    nationality = CountryField(blank=True)
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(
        max_length=10, choices=Gender.choices, blank=True, default=Gender.UNKNOWN
    )
    vip_level = models.PositiveSmallIntegerField(choices=VipLevel.choices, default=VipLevel.NONE)
    loyalty_tier = models.ForeignKey(
        "guests.LoyaltyTier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    loyalty_number = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True, validators=[_NOTE_LIMIT])
    preferences = models.TextField(blank=True, validators=[_NOTE_LIMIT])
    allergens = models.TextField(blank=True, validators=[_NOTE_LIMIT])
    warning_note = models.TextField(
        blank=True,
        validators=[_NOTE_LIMIT],
        help_text="Shown prominently to staff wherever this guest appears (problem guests).",
    )
    outstanding_balance = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    stay_count = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Completed (checked-out) stays; kept by the reservation services.",
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("last_name", "first_name", "pk")
        indexes = [
            models.Index(fields=("last_name", "first_name"), name="guest_name_idx"),
            models.Index(fields=("email",), name="guest_email_idx"),
            models.Index(fields=("phone",), name="guest_phone_idx"),
            models.Index(fields=("nationality",), name="guest_nationality_idx"),
            models.Index(fields=("birth_date",), name="guest_birth_date_idx"),
            # Birthday campaigns ask for a month and day whatever the year.
            models.Index(
                ExtractMonth("birth_date"), ExtractDay("birth_date"), name="guest_birthday_idx"
            ),
        ]
        constraints = [
            # A stored phone is either a valid E.164 number or kept as given and marked invalid.
            models.CheckConstraint(
                condition=Q(phone_valid=False) | Q(phone__startswith="+"),
                name="guest_valid_phone_is_e164",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def clean(self) -> None:
        if error := birth_date_error(self.birth_date):
            raise ValidationError({"birth_date": error})

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    # One definition of a repeat guest for every screen and audience: a guest with a completed
    # stay besides the one in question. ``stay_count`` counts completed stays, so a checked-out
    # stay already counts itself.
    @staticmethod
    def repeat_threshold(*, this_stay_completed: bool) -> int:
        """The completed-stay count from which a guest on a stay is a repeat guest."""
        return 2 if this_stay_completed else 1

    def stays_before(self, reservation: Any = None) -> int:
        """Completed stays besides ``reservation`` (every completed stay without one)."""
        completed = reservation is not None and reservation.status == "checked_out"
        return max(self.stay_count - self.repeat_threshold(this_stay_completed=completed) + 1, 0)

    @property
    def is_repeat(self) -> bool:
        """Came back: two completed stays, or one and a stay not over yet (as booker or
        companion)."""
        if self.stay_count != 1:
            return self.stay_count >= 2
        current = ["confirmed", "checked_in"]
        return (
            self.reservations.filter(status__in=current).exists()
            or self.companion_links.filter(reservation__status__in=current).exists()
        )

    def age_on(self, day: dt.date) -> int | None:
        """Return the guest's age in whole years on ``day``; None without a birth date."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def birth_date_error(born: dt.date | None) -> str:
    """What is wrong with ``born`` as a birth date (in the future, before 1900), or ""."""
    if born is None:
        return ""
    if born > timezone.localdate():
        return str(_("The birth date cannot be in the future."))
    if born < EARLIEST_BIRTH_DATE:
        return str(_("The birth date cannot be before 1900."))
    return ""


# The profile fields staff and the services may set, in form order; the contact fields (e-mail,
# phone) have rules of their own (normalised, verified) and are not among them.
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "language",
    "nationality",
    "birth_date",
    "gender",
    "vip_level",
    "loyalty_tier",
    "loyalty_number",
    "outstanding_balance",
    "notes",
    "preferences",
    "allergens",
    "warning_note",
    "source",
)


class GreylistQuerySet(models.QuerySet["GreylistEntry"]):
    def active(self, at: dt.datetime | None = None) -> GreylistQuerySet:
        """Entries in force at ``at`` (default now): not lifted and not expired."""
        at = at or timezone.now()
        return self.filter(lifted_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )


class GreylistEntry(models.Model):
    """A staff-set soft block (G7): stops marketing, never service messages."""

    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="greylist_entries")
    reason = models.CharField(max_length=255)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Leave empty for no expiry.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lift_reason = models.CharField(max_length=255, blank=True)

    objects = GreylistQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "greylist entry"
        verbose_name_plural = "greylist entries"
        indexes = [
            models.Index(fields=("guest", "lifted_at", "expires_at"), name="greylist_active_idx")
        ]

    def __str__(self) -> str:
        return f"{self.guest}: {self.reason}"

    def is_active(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.lifted_at is None and (self.expires_at is None or self.expires_at > at)


class GuestMerge(models.Model):
    """The audit trail of one duplicate merge: who, when, what the removed profile held, what moved."""

    target = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="merges_received")
    source_guest_id = models.BigIntegerField(help_text="The id the merged-away profile had.")
    source_snapshot = models.JSONField(help_text="The merged-away profile as it was.")
    moved = models.JSONField(
        default=dict, help_text="How many rows of each kind moved to the target."
    )
    reason = models.CharField(max_length=255, blank=True)
    merged_at = models.DateTimeField(default=timezone.now)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-merged_at",)

    def __str__(self) -> str:
        name = self.source_snapshot.get("full_name", f"#{self.source_guest_id}")
        return f"{name} → {self.target}"
