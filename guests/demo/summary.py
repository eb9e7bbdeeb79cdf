"""What the demo hotel holds, for the command to print."""

from __future__ import annotations

import calendar
import datetime as dt

from django.db.models import Count, Model, Q

from ..contacts import is_ota_relay_email
from ..models import (
    ConsentPurpose,
    ConsentRecord,
    ContactChannel,
    FacilityBooking,
    GreylistEntry,
    Guest,
    Hotel,
    Reservation,
)
from ..selectors import messageable_guests

Status = Reservation.Status
Section = tuple[str, list[tuple[str, object]]]


def _grouped(field: str, model: type[Model] = Guest, **filters: object) -> list[tuple[str, object]]:
    rows = (
        model._default_manager.filter(**filters)
        .values(field)
        .annotate(n=Count("pk"))
        .order_by("-n", field)
    )
    return [(str(row[field] or "—"), row["n"]) for row in rows]


def demo_summary(today: dt.date | None = None) -> list[Section]:
    """Return titled sections of (label, value) describing the guests, stays and bookings."""
    today = today or Hotel.load().business_date
    stays = Reservation.objects
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    try:
        adult_born_by = today.replace(year=today.year - 18)
    except ValueError:  # 29 February
        adult_born_by = today.replace(year=today.year - 18, day=28)
    emails = list(Guest.objects.exclude(email="").values_list("email", flat=True))
    marketing = ConsentRecord.objects.filter(purpose=ConsentPurpose.MARKETING)
    return [
        ("Guests per nationality", _grouped("nationality")),
        ("Guests per language", _grouped("language")),
        (
            "Reservations per status",
            [(str(Status(k).label), n) for k, n in _grouped("status", Reservation)],
        ),
        (
            "Front desk on " + f"{today:%d.%m.%Y}",
            [
                ("arriving today", stays.filter(status=Status.CONFIRMED, arrival=today).count()),
                ("in house", stays.filter(status=Status.CHECKED_IN).count()),
                (
                    "departing today",
                    stays.filter(status=Status.CHECKED_IN, departure=today).count(),
                ),
                (
                    "departed yesterday",
                    stays.filter(
                        status=Status.CHECKED_OUT, departure=today - dt.timedelta(days=1)
                    ).count(),
                ),
                (
                    "arriving in the next 60 days",
                    stays.filter(
                        status=Status.CONFIRMED,
                        arrival__gt=today,
                        arrival__lte=today + dt.timedelta(days=60),
                    ).count(),
                ),
                ("stays of 5+ nights", stays.filter(nights__gte=5).count()),
            ],
        ),
        (
            "Guests",
            [
                ("total", Guest.objects.count()),
                ("repeat guests (2+ stays)", Guest.objects.filter(stay_count__gte=2).count()),
                ("VIPs", Guest.objects.filter(vip_level__gt=0).count()),
                ("loyalty members", Guest.objects.filter(loyalty_tier__isnull=False).count()),
                (
                    "birthday today",
                    Guest.objects.filter(
                        birth_date__month=today.month, birth_date__day=today.day
                    ).count(),
                ),
                (
                    "birthday later this month",
                    Guest.objects.filter(
                        birth_date__month=today.month,
                        birth_date__day__gt=today.day,
                        birth_date__day__lte=month_end.day,
                    ).count(),
                ),
                ("under 18", Guest.objects.filter(birth_date__gt=adult_born_by).count()),
                ("with a debt", Guest.objects.filter(outstanding_balance__gt=0).count()),
                ("with a warning note", Guest.objects.exclude(warning_note="").count()),
                (
                    "invalid phone (imported)",
                    Guest.objects.filter(~Q(phone=""), phone_valid=False).count(),
                ),
                ("no phone", Guest.objects.filter(phone="").count()),
                ("no e-mail", Guest.objects.filter(email="").count()),
                ("OTA relay e-mail", sum(1 for e in emails if is_ota_relay_email(e))),
            ],
        ),
        (
            "Consent and greylist",
            [
                (
                    "marketing by e-mail allowed",
                    messageable_guests(
                        Guest.objects.all(),
                        purpose=ConsentPurpose.MARKETING,
                        channel=ContactChannel.EMAIL,
                    ).count(),
                ),
                (
                    "marketing by SMS allowed",
                    messageable_guests(
                        Guest.objects.all(),
                        purpose=ConsentPurpose.MARKETING,
                        channel=ContactChannel.SMS,
                    ).count(),
                ),
                (
                    "never asked about marketing",
                    Guest.objects.exclude(consent_records__in=marketing).count(),
                ),
                (
                    "withdrew marketing consent",
                    marketing.filter(granted=False)
                    .exclude(note="Left the newsletter box unticked")
                    .values("guest")
                    .distinct()
                    .count(),
                ),
                (
                    "greylisted now",
                    GreylistEntry.objects.active().values("guest").distinct().count(),
                ),
                (
                    "greylist entries expired or lifted",
                    GreylistEntry.objects.count() - GreylistEntry.objects.active().count(),
                ),
            ],
        ),
        ("Facility bookings", _grouped("facility__facility_type__kind", FacilityBooking)),
    ]
