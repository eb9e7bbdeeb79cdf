"""Reference data: the lists staff pick from on a reservation (loaded from fixtures/)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferenceItem(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ("sort_order", "name")

    def __str__(self) -> str:
        return self.name


class Agency(ReferenceItem):
    """A travel agency, tour operator, OTA or corporate client that books for guests."""

    class Kind(models.TextChoices):
        AGENCY = "agency", _("Travel agency")
        TOUR_OPERATOR = "tour_operator", _("Tour operator")
        OTA = "ota", _("Online travel agency")
        CORPORATE = "corporate", _("Corporate")

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.AGENCY)

    class Meta(ReferenceItem.Meta):
        verbose_name_plural = "agencies"


class MarketSegment(ReferenceItem):
    pass


class BoardType(ReferenceItem):
    """Meal plan: RO, BB, HB, FB, AI."""


class RoomType(ReferenceItem):
    pass


class StayType(ReferenceItem):
    """Leisure, business, honeymoon, group …"""


class SourceChannel(ReferenceItem):
    """Where the booking came from: direct (phone, walk-in, website) or an OTA."""

    is_ota = models.BooleanField("online travel agency", default=False)


class LoyaltyTier(ReferenceItem):
    """A membership tier of the hotel's loyalty programme; higher rank is better."""

    rank = models.PositiveSmallIntegerField(default=1)


class FacilityType(ReferenceItem):
    """A kind of bookable facility (seed 000 "Tesis Rezervasyonları")."""

    class Kind(models.TextChoices):
        SPA = "spa", _("Spa")
        RESTAURANT = "restaurant", _("Restaurant (à la carte)")
        EVENT = "event", _("Event")
        OTHER = "other", _("Other")

    kind = models.CharField(max_length=20, choices=Kind.choices)


class Facility(models.Model):
    """A bookable place or service: a spa treatment room, an à la carte restaurant, a hall."""

    name = models.CharField(max_length=100, unique=True)
    facility_type = models.ForeignKey(
        FacilityType, on_delete=models.PROTECT, related_name="facilities"
    )
    capacity = models.PositiveSmallIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("facility_type__sort_order", "name")
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return self.name
