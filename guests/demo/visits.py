"""Facility bookings of the demo: spa, à la carte dinners and events over the coming days."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from ..models import FacilityBooking, Reservation
from .records import Person, Stay, Visit

if TYPE_CHECKING:
    from .plan import Planner

Status = Reservation.Status
Booking = FacilityBooking.Status
SPA = ("Hamam & massage", "Thai massage room")
RESTAURANTS = ("Ocean fish restaurant", "Anatolian kitchen")
TERRACE, HALL = "Sunset wedding terrace", "Conference hall"
_TREATMENTS = (
    "Turkish bath with foam massage",
    "Aromatherapy massage",
    "Thai massage",
    "Hot stone massage",
    "Couples' massage",
    "Facial",
)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _soon(p: Planner, hours: float) -> dt.datetime:
    """``hours`` from now, rounded up to the next half hour."""
    at = timezone.localtime(p.now) + dt.timedelta(hours=hours)
    at = at.replace(second=0, microsecond=0)
    return at + dt.timedelta(minutes=(30 - at.minute % 30) % 30)


def _tonight_or_tomorrow(p: Planner, hour: int, minute: int = 0) -> dt.datetime:
    at = _at(p.today, hour, minute)
    return at if at > p.now + dt.timedelta(minutes=30) else at + dt.timedelta(days=1)


def _guest(p: Planner, stay: Stay) -> Person:
    adults = [x for x in stay.guests if not x.minor]
    return stay.booker if p.rng.random() < 0.7 else p.rng.choice(adults)


def _spa(p: Planner, stay: Stay, at: dt.datetime, status: str = Booking.BOOKED) -> None:
    party = 2 if stay.adults >= 2 and p.rng.random() < 0.4 else 1
    p.visits.append(
        Visit(
            _guest(p, stay),
            stay,
            p.rng.choice(SPA),
            at,
            p.rng.choice((50, 60, 90)),
            party,
            p.rng.choice(_TREATMENTS),
            status,
        )
    )


def _dinner(p: Planner, stay: Stay, at: dt.datetime, status: str = Booking.BOOKED) -> None:
    p.visits.append(
        Visit(
            _guest(p, stay),
            stay,
            p.rng.choice(RESTAURANTS),
            at,
            120,
            stay.adults + stay.children,
            "Window table" if p.rng.random() < 0.3 else "",
            status,
        )
    )


def _stamp(p: Planner, visit: Visit) -> None:
    booked = visit.starts_at - dt.timedelta(hours=p.rng.randint(2, 72))
    visit.created_at = min(booked, p.now - dt.timedelta(minutes=p.rng.randint(5, 90)))


def add_visits(p: Planner) -> None:
    tomorrow = p.days(1)
    staying = [s for s in p.stays if s.outcome == Status.CHECKED_IN and s.departure > tomorrow]
    arriving = [s for s in p.stays if s.outcome == Status.CONFIRMED and s.arrival == p.today]
    arriving_tomorrow = [
        s for s in p.stays if s.outcome == Status.CONFIRMED and s.arrival == tomorrow
    ]
    # The birthday host and the conference organiser have their own plans.
    busy = set(map(id, p.roles.values()))
    staying = [s for s in staying if id(s) not in busy]
    guests_in = p.rng.sample(staying, min(len(staying), 24))

    for i, stay in enumerate(guests_in[:4]):
        _spa(p, stay, _soon(p, 1 + i))  # later today, in a few hours
    for stay in guests_in[4:9]:
        _dinner(p, stay, _tonight_or_tomorrow(p, p.rng.choice((19, 20)), p.rng.choice((0, 30))))
    for stay in guests_in[9:15]:
        _spa(p, stay, _at(tomorrow, p.rng.choice((10, 11, 14, 15, 16)), p.rng.choice((0, 30))))
    for stay in guests_in[15:19]:
        _dinner(p, stay, _at(tomorrow, p.rng.choice((19, 20, 21)), p.rng.choice((0, 30))))
    for stay in guests_in[19:22]:
        _spa(p, stay, _at(p.days(2), p.rng.choice((10, 12, 16))))
    # Yesterday: treatments taken and one table nobody came to.
    earlier = [s for s in guests_in if s.arrival < p.days(-1)]
    for stay in earlier[:3]:
        _spa(p, stay, _at(p.days(-1), p.rng.choice((10, 14, 16))), Booking.ATTENDED)
    for stay in earlier[3:4]:
        _dinner(p, stay, _at(p.days(-1), 20), Booking.NO_SHOW)
    for stay in guests_in[22:24]:
        _spa(p, stay, _at(p.days(3), 11), Booking.CANCELLED)

    for stay in arriving[:3]:
        _dinner(p, stay, _tonight_or_tomorrow(p, 20, 30))
    for stay in arriving[3:5]:
        _spa(p, stay, _at(tomorrow, 11))
    for stay in arriving_tomorrow[:2]:
        _dinner(p, stay, _at(tomorrow, 20))
    for stay in arriving_tomorrow[2:3]:
        _spa(p, stay, _at(p.days(2), 15))

    birthday = p.roles.get("birthday")
    if birthday is not None:
        p.visits.append(
            Visit(
                birthday.booker,
                birthday,
                TERRACE,
                _tonight_or_tomorrow(p, 20),
                150,
                8,
                "Birthday dinner on the terrace: cake with candles, table for 8",
            )
        )
    host = p.roles.get("corporate0")
    if host is not None:
        p.visits.append(
            Visit(
                host.booker,
                host,
                HALL,
                _at(tomorrow, 9),
                8 * 60,
                45,
                "ACME regional sales meeting: theatre seating, projector, coffee breaks 10:30 and 15:30",
            )
        )
    wedding = p.roles.get("wedding")
    if wedding is not None:
        p.visits.append(
            Visit(
                wedding.booker,
                wedding,
                TERRACE,
                _at(wedding.arrival + dt.timedelta(days=1), 19),
                270,
                120,
                "Wedding reception: 120 guests, DJ, Turkish menu, vegetarian options",
            )
        )
    day_guest = p.roles_people.get("day_guest")
    if day_guest is not None:
        p.visits.append(
            Visit(day_guest, None, SPA[0], _at(tomorrow, 11), 180, 1, "Day guest: spa day pass")
        )
    for visit in p.visits:
        _stamp(p, visit)
