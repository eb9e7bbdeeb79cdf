"""Stays of the demo: who is in house, arriving, gone, cancelled or never came, and their history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from ..models import Guest, Reservation
from .records import Person, Stay

if TYPE_CHECKING:
    from .plan import Planner

Status = Reservation.Status
DAY = dt.timedelta(days=1)

# Route → (agency code, market segment, source channel); a tour operator depends on the country.
ROUTES: dict[str, tuple[str, str, str]] = {
    "to": ("TUI", "TO", "TO"),
    "booking": ("BOOKING", "OTA", "BOOKING"),
    "expedia": ("EXPEDIA", "OTA", "EXPEDIA"),
    "airbnb": ("", "OTA", "AIRBNB"),
    "web": ("", "IND", "WEB"),
    "direct": ("", "IND", "DIRECT"),
    "walkin": ("", "IND", "WALKIN"),
    "corporate": ("ACME", "CORP", "DIRECT"),
    "comp": ("JOLLY", "COMP", "DIRECT"),
}
OTA_ROUTES = ("booking", "expedia", "airbnb")
TOUR_OPERATORS = {
    "RU": ("ANEX", "PEGAS"),
    "UA": ("ANEX", "PEGAS"),
    "KZ": ("ANEX", "PEGAS"),
    "TR": ("ETS", "JOLLY"),
}

ROOMS: dict[str, list[str]] = {
    "SGL": [f"1{n:02d}" for n in range(1, 13)],
    "STD": [f"1{n:02d}" for n in range(13, 25)] + [f"2{n:02d}" for n in range(1, 25)],
    "SV": [f"3{n:02d}" for n in range(1, 25)] + [f"4{n:02d}" for n in range(1, 25)],
    "FAM": [f"5{n:02d}" for n in range(1, 17)],
    "JS": [f"5{n:02d}" for n in range(17, 25)] + [f"6{n:02d}" for n in range(1, 7)],
    "KS": ["607", "608", "609", "610"],
}
_BASE_RATE = {"SGL": 70, "STD": 95, "SV": 125, "FAM": 165, "JS": 210, "KS": 360}
_BOARD_FACTOR = {"RO": 0.75, "BB": 0.85, "HB": 1.0, "FB": 1.12, "AI": 1.3}
_BOARDS = (("AI", 55), ("HB", 15), ("BB", 15), ("FB", 7), ("RO", 8))

# How many parties of each kind the hotel has (see the functions of the same names below).
SCENARIOS = {
    "in_house": 34,
    "departing_today": 10,
    "departed_yesterday": 8,
    "arriving_today": 12,
    "future": 58,
    "cancelled": 10,
    "no_show": 5,
    "past_only": 20,
    "profile_only": 12,
}
_CANCEL_REASONS = (
    "Flight cancelled",
    "Illness in the family",
    "Found a cheaper offer",
    "Change of travel dates",
    "Visa not granted in time",
    "Cancelled free of charge on the portal",
    "Tour operator moved the group to another hotel",
)
_STAY_NOTES = (
    "Late arrival around 23:00",
    "Anniversary — champagne on arrival",
    "Baby cot requested",
    "Airport transfer from AYT booked",
    "Connecting rooms if possible",
    "Non-smoking room, high floor",
    "Early check-in requested",
    "Arrives by car: needs a parking space",
)


class RoomBoard:
    """The rooms free tonight, so two parties in house never share a room."""

    _FALLBACK = ("JS", "SV", "STD", "FAM", "KS", "SGL")

    def __init__(self) -> None:
        self.free = {kind: list(rooms) for kind, rooms in ROOMS.items()}

    def take(self, p: Planner, kind: str) -> tuple[str, str]:
        """Return (room type, room number) of a free room, upgrading when the type is full."""
        for candidate in (kind, *self._FALLBACK):
            rooms = self.free[candidate]
            if rooms:
                return candidate, rooms.pop(p.rng.randrange(len(rooms)))
        return kind, ""


def nightly_rate(p: Planner, room: str, board: str, arrival: dt.date, route: str) -> Decimal:
    if arrival.month in (6, 7, 8, 9):
        season = 1.5
    elif arrival.month in (5, 10):
        season = 1.2
    elif (arrival.month, arrival.day) >= (12, 20) or (arrival.month, arrival.day) <= (1, 3):
        season = 1.35
    else:
        season = 1.0
    channel = 0.85 if route == "to" else 1.05 if route in OTA_ROUTES else 1.0
    value = _BASE_RATE[room] * _BOARD_FACTOR[board] * season * channel * p.rng.uniform(0.95, 1.08)
    return Decimal(round(value / 5) * 5).quantize(Decimal("0.01"))


def _room_type(p: Planner, people: list[Person]) -> str:
    adults = sum(not x.minor for x in people)
    if len(people) > adults:
        return p.pick((("FAM", 70), ("JS", 30)))
    if adults == 1:
        return p.pick((("SGL", 40), ("STD", 60)))
    return p.pick((("STD", 35), ("SV", 45), ("JS", 12), ("KS", 8)))


def _external_ref(p: Planner, route: str, agency: str) -> str:
    digits = p.rng.randint
    if route == "to":
        return f"{agency}-{digits(10_000_000, 99_999_999)}"
    if route == "booking":
        return str(digits(1_000_000_000, 9_999_999_999))
    if route == "expedia":
        return str(digits(100_000_000, 999_999_999))
    if route == "airbnb":
        return "HM" + "".join(p.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
    if route == "web":
        return f"LB{digits(100_000, 999_999)}"
    return ""


def book(
    p: Planner,
    people: list[Person],
    route: str,
    *,
    arrival: dt.date,
    nights: int,
    outcome: str,
    booked_on: dt.date | None = None,
    room_type: str | None = None,
    board: str | None = None,
    stay_type: str | None = None,
    rate: Decimal | None = None,
    notes: str | None = None,
    cancel_on: dt.date | None = None,
    cancel_reason: str = "",
) -> Stay:
    """Plan one reservation for ``people`` (booker first) and record it on each of them."""
    booker = people[0]
    agency, segment, channel = ROUTES[route]
    if route == "to":
        agency = p.rng.choice(TOUR_OPERATORS.get(booker.nationality, ("TUI",)))
    room_type = room_type or _room_type(p, people)
    board = board or p.pick(_BOARDS)
    if booked_on is None:
        lead = (
            0
            if route == "walkin"
            else p.rng.choice((1, 3, 7, 14, 21, 30, 45, 60, 90, 120)) + p.rng.randint(0, 6)
        )
        booked_on = min(arrival - lead * DAY, p.today)
    room_number = ""
    if outcome == Status.CHECKED_IN or (
        outcome == Status.CONFIRMED and arrival == p.today and p.rng.random() < 0.5
    ):
        room_type, room_number = p.rooms.take(p, room_type)
    elif outcome == Status.CHECKED_OUT:
        room_number = p.rng.choice(ROOMS[room_type])
    adults = sum(not x.minor for x in people)
    if len(people) == 1 and p.rng.random() < 0.2:
        adults += 1  # a partner the booking portal never named
    if stay_type is None:
        stay_type = "LONG" if nights >= 21 else "LEI"
        if (
            adults == 2
            and len(people) == 2
            and booker.age_on(arrival) < 35
            and p.rng.random() < 0.3
        ):
            stay_type = "HM"
    stay = Stay(
        booker=booker,
        companions=list(people[1:]),
        arrival=arrival,
        departure=arrival + nights * DAY,
        booked_on=booked_on,
        outcome=outcome,
        room_type=room_type,
        board_type=board,
        nightly_rate=rate
        if rate is not None
        else nightly_rate(p, room_type, board, arrival, route),
        route=route,
        agency=agency,
        market_segment=segment,
        stay_type=stay_type,
        source_channel=channel,
        external_ref=_external_ref(p, route, agency),
        adults=adults,
        children=len(people) - sum(not x.minor for x in people),
        room_number=room_number,
        notes=notes
        if notes is not None
        else (p.rng.choice(_STAY_NOTES) if p.rng.random() < 0.2 else ""),
        cancel_on=cancel_on,
        cancel_reason=cancel_reason,
    )
    _stamp(p, stay)
    p.stays.append(stay)
    for person in people:
        person.stays.append(stay)
    return stay


def _stamp(p: Planner, stay: Stay) -> None:
    stay.created_at = p.moment(stay.booked_on, p.rng.randint(8, 22), p.rng.randint(0, 59))
    if stay.outcome in (Status.CHECKED_IN, Status.CHECKED_OUT):
        stay.checked_in_at = p.moment(stay.arrival, p.rng.randint(13, 19), p.rng.randint(0, 59))
        stay.created_at = min(stay.created_at, stay.checked_in_at - dt.timedelta(minutes=20))
    if stay.outcome == Status.CHECKED_OUT:
        stay.checked_out_at = p.moment(stay.departure, p.rng.randint(8, 11), p.rng.randint(0, 59))
    elif stay.outcome == Status.CANCELLED and stay.cancel_on is not None:
        stay.cancelled_at = p.moment(stay.cancel_on, p.rng.randint(8, 22), p.rng.randint(0, 59))
    elif stay.outcome == Status.NO_SHOW:
        # Marked by the night audit that closed the arrival day, in the small hours.
        stay.cancelled_at = p.moment(stay.arrival + DAY, 1, p.rng.randint(0, 59))


def history(p: Planner, people: list[Person], count: int) -> None:
    """Give the party ``count`` earlier stays, about a year apart, all checked out."""
    for years in range(1, count + 1):
        arrival = p.days(-(365 * years + p.rng.randint(-110, 110)))
        # Children not yet born then were not on that trip.
        travellers = [x for x in people if x.birth_date is None or x.birth_date < arrival]
        book(
            p,
            travellers,
            p.route_for(people[0].nationality),
            arrival=arrival,
            nights=p.rng.choice((3, 4, 5, 7, 7, 7, 10, 10, 14)),
            outcome=Status.CHECKED_OUT,
        )


def _maybe_repeat(p: Planner, people: list[Person], chance: float = 0.3) -> None:
    if p.rng.random() < chance:
        history(p, people, p.rng.choices((1, 2, 3), weights=(50, 35, 15))[0])


def in_house(p: Planner, people: list[Person], route: str) -> None:
    nights = p.rng.choice((3, 4, 5, 6, 7, 7, 7, 8, 10, 10, 12, 14))
    _maybe_repeat(p, people)
    book(
        p,
        people,
        route,
        arrival=p.days(-p.rng.randint(1, nights - 1)),
        nights=nights,
        outcome=Status.CHECKED_IN,
    )


def departing_today(p: Planner, people: list[Person], route: str) -> None:
    nights = p.rng.randint(2, 14)
    _maybe_repeat(p, people)
    book(p, people, route, arrival=p.days(-nights), nights=nights, outcome=Status.CHECKED_IN)


def departed_yesterday(p: Planner, people: list[Person], route: str) -> None:
    nights = p.rng.randint(3, 10)
    _maybe_repeat(p, people)
    book(p, people, route, arrival=p.days(-1 - nights), nights=nights, outcome=Status.CHECKED_OUT)


def arriving_today(p: Planner, people: list[Person], route: str) -> None:
    _maybe_repeat(p, people)
    book(
        p,
        people,
        "direct" if route == "walkin" else route,
        arrival=p.today,
        nights=p.rng.randint(3, 14),
        outcome=Status.CONFIRMED,
    )


def future(p: Planner, people: list[Person], route: str) -> None:
    bucket = p.rng.random()
    ahead = (
        p.rng.randint(1, 7)
        if bucket < 0.25
        else p.rng.randint(8, 30)
        if bucket < 0.6
        else p.rng.randint(31, 60)
    )
    _maybe_repeat(p, people)
    # One in ten is booked today: late bookings that missed their pre-arrival moment.
    booked_on = p.today if p.rng.random() < 0.1 else None
    book(
        p,
        people,
        "web" if route == "walkin" else route,
        arrival=p.days(ahead),
        nights=p.rng.randint(3, 14),
        outcome=Status.CONFIRMED,
        booked_on=booked_on,
    )


def cancelled(p: Planner, people: list[Person], route: str) -> None:
    route = "booking" if route == "walkin" else route
    reason = p.rng.choice(_CANCEL_REASONS)
    if p.rng.random() < 0.6:
        arrival = p.days(p.rng.randint(5, 50))
        cancel_on = p.days(-p.rng.randint(0, 8))
        booked_on = cancel_on - p.rng.randint(5, 90) * DAY
    else:
        arrival = p.days(-p.rng.randint(3, 40))
        cancel_on = arrival - p.rng.randint(1, 14) * DAY
        booked_on = cancel_on - p.rng.randint(10, 90) * DAY
    _maybe_repeat(p, people, 0.1)
    book(
        p,
        people,
        route,
        arrival=arrival,
        nights=p.rng.randint(3, 10),
        outcome=Status.CANCELLED,
        booked_on=booked_on,
        cancel_on=cancel_on,
        cancel_reason=reason,
    )


def no_show(p: Planner, people: list[Person], route: str) -> None:
    route = "booking" if route == "walkin" or p.rng.random() < 0.6 else route
    arrival = p.days(-1) if p.rng.random() < 0.4 else p.days(-p.rng.randint(3, 30))
    book(p, people, route, arrival=arrival, nights=p.rng.randint(2, 7), outcome=Status.NO_SHOW)


def past_only(p: Planner, people: list[Person], route: str) -> None:
    history(p, people, p.rng.choices((1, 2, 3), weights=(45, 40, 15))[0])
    recent = p.recent_departures.pop() if p.recent_departures else None
    if recent is not None:
        # Recent departures: the post-stay survey and "come back" campaigns have someone to reach.
        nights = p.rng.randint(4, 10)
        book(
            p,
            people,
            route,
            arrival=p.days(recent - nights),
            nights=nights,
            outcome=Status.CHECKED_OUT,
        )


def profile_only(p: Planner, people: list[Person], route: str) -> None:
    """A profile without a booking: newsletter sign-ups, spa day guests."""


_SCENARIO: dict[str, Callable[[Planner, list[Person], str], None]] = {
    "in_house": in_house,
    "departing_today": departing_today,
    "departed_yesterday": departed_yesterday,
    "arriving_today": arriving_today,
    "future": future,
    "cancelled": cancelled,
    "no_show": no_show,
    "past_only": past_only,
    "profile_only": profile_only,
}


def _special_parties(p: Planner) -> None:
    # A company's regional meeting: three colleagues in house, a conference tomorrow.
    for i, country in enumerate(("GB", "DE", "TR")):
        people, _ = p.party("in_house", country=country, shape="solo", route="corporate")
        p.roles[f"corporate{i}"] = book(
            p,
            people,
            "corporate",
            arrival=p.days(-2),
            nights=4,
            outcome=Status.CHECKED_IN,
            room_type="STD",
            board="BB",
            stay_type="BUS",
            rate=Decimal("110.00"),
            notes="ACME regional sales meeting; invoice to ACME travel desk",
        )
    # A Turkish couple marrying on the terrace, then staying on for their honeymoon.
    people, _ = p.party("future", country="TR", shape="couple", route="direct")
    p.roles["wedding"] = book(
        p,
        people,
        "direct",
        arrival=p.days(3),
        nights=5,
        outcome=Status.CONFIRMED,
        room_type="JS",
        board="AI",
        stay_type="HM",
        notes="Wedding on the Sunset terrace the day after arrival; suite decoration",
    )
    # A travel agent on a familiarisation trip, on the house.
    people, _ = p.party("in_house", country="TR", shape="solo", route="comp")
    book(
        p,
        people,
        "comp",
        arrival=p.days(-1),
        nights=3,
        outcome=Status.CHECKED_IN,
        room_type="SV",
        board="AI",
        rate=Decimal("0.00"),
        notes="FAM trip — Jolly Tur product manager; complimentary",
    )
    # Retired regulars wintering in Antalya for four weeks.
    people, _ = p.party("in_house", country="RU", shape="couple", route="direct")
    history(p, people, 2)
    book(
        p,
        people,
        "direct",
        arrival=p.days(-10),
        nights=28,
        outcome=Status.CHECKED_IN,
        room_type="SV",
        board="HB",
        stay_type="LONG",
        notes="Winter long stay; room cleaning on Mondays and Thursdays",
    )
    # A local who comes for the spa and has never stayed.
    people, _ = p.party("profile_only", country="TR", shape="solo", route="direct")
    p.roles_people["day_guest"] = people[0]
    # A walk-in who checked in this morning.
    people, _ = p.party("in_house", country="GB", shape="solo", route="walkin")
    book(
        p, people, "walkin", arrival=p.today, nights=2, outcome=Status.CHECKED_IN, booked_on=p.today
    )


def _duplicates(p: Planner) -> None:
    """OTA profiles of known guests: one confirms the known e-mail (and is merged), one not yet."""
    known = [
        x
        for x in p.people
        if not x.minor
        and x.past_stays
        and x.email
        and x.email.endswith(("example.com", "example.net", "example.org"))
        and x.stays[0].booker is x
        and x.nationality in ("GB", "DE", "NL")
        # The portal booking must not overlap a stay the guest already has.
        and all(s.departure < p.days(10) for s in x.stays)
    ]
    for i, original in enumerate(p.rng.sample(known, 2)):
        twin = p.twin(original)
        twin.source = Guest.Source.OTA
        p.give_relay_email(twin, "booking")
        book(
            p,
            [twin],
            "booking",
            arrival=p.days(p.rng.randint(10, 40)),
            nights=7,
            outcome=Status.CONFIRMED,
        )
        if i == 0:
            original.verify_email = True
            p.merges.append((twin, original))


def add_parties(p: Planner) -> None:
    deck = [scenario for scenario, count in SCENARIOS.items() for _ in range(count)]
    p.rng.shuffle(deck)
    for scenario in deck:
        people, route = p.party(scenario)
        _SCENARIO[scenario](p, people, route)
    _special_parties(p)
    _duplicates(p)
