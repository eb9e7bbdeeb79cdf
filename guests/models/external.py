"""Another system's ids for our records (I1): a PMS's guest and reservation ids.

Each row says "``source`` calls this record ``external_id``"; the pair is unique, so an upsert
keyed by it finds the same record however often it is repeated. A guest may carry several ids
(two PMS profiles of one person, merged here): merging moves them with the guest.
"""

from __future__ import annotations

import re

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .guest import Guest
from .reservation import FacilityBooking, Reservation

# A source names the system the ids come from ("mews", "opera", "elektraweb", "csv-2026").
SOURCE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
EXTERNAL_ID_MAX_LENGTH = 100

SOURCE_RULE = gettext_lazy(
    "A source is 1–40 lower-case letters, digits, dots, dashes or underscores, "
    "starting with a letter or digit."
)
source_validator = RegexValidator(SOURCE_PATTERN, SOURCE_RULE)


class ExternalId(models.Model):
    source = models.CharField(max_length=40, validators=[source_validator])
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class GuestExternalId(ExternalId):
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="external_ids")

    class Meta:
        verbose_name = "guest external id"
        constraints = [
            models.UniqueConstraint(
                fields=("source", "external_id"), name="guest_external_id_unique"
            ),
        ]


class ReservationExternalId(ExternalId):
    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="external_ids"
    )

    class Meta:
        verbose_name = "reservation external id"
        constraints = [
            models.UniqueConstraint(
                fields=("source", "external_id"), name="reservation_external_id_unique"
            ),
        ]


class FacilityBookingExternalId(ExternalId):
    booking = models.ForeignKey(
        FacilityBooking, on_delete=models.CASCADE, related_name="external_ids"
    )

    class Meta:
        verbose_name = "facility booking external id"
        constraints = [
            models.UniqueConstraint(
                fields=("source", "external_id"), name="facility_booking_external_id_unique"
            ),
        ]
