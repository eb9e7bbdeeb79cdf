"""The demo hotel's story as plain data: who the guests are and what their stays did.

Nothing here touches the database; ``builder`` writes the plan through the services. Dates
are relative to ``today`` and one seeded ``random.Random`` draws everything else, so the
same day always gives the same plan.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
from dataclasses import dataclass

from django.utils import timezone

from ..models import Guest, Reservation
from . import profiles, stays, visits
from .names import BOOKS, NameBook, ascii_name
from .phones import PhoneBook
from .records import Person, Plan, Stay, Visit

SEED = 1984
Status = Reservation.Status


@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    # (language, name book, weight): Ukrainians who speak Russian, Gulf guests who write in English.
    voices: tuple[tuple[str, str, int], ...]
    # Booking routes and their weights; see stays.ROUTES.
    routes: tuple[tuple[str, int], ...]


_EUROPE = (("to", 45), ("booking", 20), ("expedia", 10), ("web", 15), ("direct", 10))
COUNTRIES: tuple[Country, ...] = (
    Country(
        "RU", 30, (("ru", "ru", 1),), (("to", 55), ("booking", 20), ("direct", 15), ("web", 10))
    ),
    Country("DE", 27, (("de", "de", 1),), _EUROPE),
    Country(
        "TR",
        26,
        (("tr", "tr", 1),),
        (("to", 25), ("booking", 20), ("direct", 30), ("web", 15), ("walkin", 10)),
    ),
    Country("GB", 22, (("en", "en", 1),), _EUROPE),
    Country(
        "UA", 12, (("uk", "uk", 3), ("ru", "uk", 1)), (("to", 45), ("booking", 30), ("web", 25))
    ),
    Country("PL", 10, (("pl", "pl", 1),), _EUROPE),
    Country("NL", 9, (("nl", "nl", 1),), _EUROPE),
    Country(
        "SK", 8, (("sk", "sk", 1),), (("to", 30), ("booking", 35), ("expedia", 10), ("web", 25))
    ),
    Country(
        "FR",
        8,
        (("fr", "fr", 1),),
        (("booking", 35), ("expedia", 20), ("to", 20), ("web", 15), ("airbnb", 10)),
    ),
    Country(
        "SA",
        6,
        (("ar", "ar", 2), ("ar", "ar_latn", 1), ("en", "ar_latn", 1)),
        (("direct", 40), ("booking", 30), ("expedia", 30)),
    ),
    Country(
        "AE",
        5,
        (("ar", "ar", 1), ("ar", "ar_latn", 1), ("en", "ar_latn", 1)),
        (("direct", 40), ("booking", 30), ("expedia", 30)),
    ),
    Country("AT", 3, (("de", "de", 1),), _EUROPE),
    Country("CH", 2, (("de", "de", 2), ("fr", "fr", 1)), _EUROPE),
    Country("KZ", 3, (("ru", "kz", 1),), (("to", 50), ("booking", 30), ("direct", 20))),
    Country("BE", 2, (("nl", "nl", 1), ("fr", "fr", 1)), _EUROPE),
)
_COUNTRY = {c.code: c for c in COUNTRIES}


class Planner:
    """Draw people from one seeded generator; ``build_plan`` runs it through the whole story."""

    def __init__(self, *, today: dt.date, now: dt.datetime, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.now = now
        self.phones = PhoneBook(self.rng)
        self.people: list[Person] = []
        self.stays: list[Stay] = []
        self.visits: list[Visit] = []
        self.merges: list[tuple[Person, Person]] = []
        self._keys = itertools.count(1)
        self._emails: set[str] = set()
        self.rooms = stays.RoomBoard()
        # Parties the facility bookings refer to by role (the conference host, the wedding …).
        self.roles: dict[str, Stay] = {}
        self.roles_people: dict[str, Person] = {}
        # Days ago (negative) that some past-only guests left: popped by stays.past_only.
        self.recent_departures = [-30, -14, -7, -3, -2]

    # --- helpers ------------------------------------------------------------------------------

    def days(self, n: int) -> dt.date:
        return self.today + dt.timedelta(days=n)

    def moment(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """An aware local time on ``day``, never later than now."""
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        return min(at, self.now - dt.timedelta(minutes=1))

    def pick(self, weighted: tuple[tuple[str, int], ...]) -> str:
        return self.rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]

    # --- people -------------------------------------------------------------------------------

    def person(
        self,
        country: str,
        language: str,
        book_key: str,
        *,
        female: bool,
        age: int,
        surname: int | None = None,
        minor: bool = False,
    ) -> Person:
        """Make a person; ``surname`` is the index of a relative's family name in the book."""
        book: NameBook = BOOKS[book_key]
        firsts = book.female if female else book.male
        i = self.rng.randrange(len(firsts))
        surnames = book.surnames
        if book_key.startswith("ar"):
            # The first eight family names are Saudi, the rest Emirati.
            lo, hi = (0, 8) if country == "SA" else (8, len(surnames))
        else:
            lo, hi = 0, len(surnames)
        j = surname if surname is not None else self.rng.randrange(lo, hi)
        first = firsts[i]
        last = book.surname_for(surnames[j], female=female)
        if book_key == "ar":
            latin_book = BOOKS["ar_latn"]
            latin_first = ascii_name((latin_book.female if female else latin_book.male)[i])
            latin_last = ascii_name(latin_book.surname_for(latin_book.surnames[j], female=female))
        else:
            latin_first, latin_last = (
                ascii_name(first, language=language),
                ascii_name(last, language=language),
            )
        person = Person(
            key=next(self._keys),
            first_name=first,
            last_name=last,
            latin=(latin_first, latin_last),
            language=language,
            nationality=country,
            gender=Guest.Gender.FEMALE if female else Guest.Gender.MALE,
            birth_date=self.birth_date(age),
            surname_index=j,
            minor=minor,
        )
        self.people.append(person)
        return person

    def birth_date(self, age: int, *, month: int | None = None, day: int | None = None) -> dt.date:
        year = self.today.year - age
        month = month or self.rng.randint(1, 12)
        day = day or self.rng.randint(1, 28)
        while True:
            try:
                return dt.date(year, month, day)
            except ValueError:  # 29 February in a common year
                year -= 1

    def twin(self, person: Person) -> Person:
        """A second profile of the same person, as a booking portal would create it."""
        twin = Person(
            key=next(self._keys),
            first_name=person.first_name,
            last_name=person.last_name,
            latin=person.latin,
            language=person.language,
            nationality=person.nationality,
            gender=person.gender,
            birth_date=person.birth_date,
            surname_index=person.surname_index,
        )
        self.people.append(twin)
        return twin

    def route_for(self, country: str) -> str:
        return self.pick(_COUNTRY[country].routes)

    def give_email(self, person: Person, *, domain: str | None = None) -> None:
        first, last = person.latin
        year = f"{person.birth_date:%y}" if person.birth_date else ""
        styles = (
            f"{first}.{last}",
            f"{first}{last}{year}",
            f"{first[:1]}.{last}",
            f"{first}_{last}",
            f"{last}.{first}",
            f"{first}{self.rng.randint(1, 99)}",
        )
        local = (f"{first[:1]}.{last}" if domain else self.rng.choice(styles)).strip(
            "._"
        ) or "guest"
        # Reserved example domains (RFC 2606): demo mail can never reach a real mailbox.
        domain = domain or self.rng.choice(("example.com", "example.net", "example.org"))
        address, n = f"{local}@{domain}", 1
        while address in self._emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self._emails.add(address)
        person.email = address

    def give_relay_email(self, person: Person, route: str) -> None:
        first, last = person.latin
        hexes = "".join(self.rng.choice("0123456789abcdef") for _ in range(10))
        address = {
            "booking": f"{first}{last[:1]}.{self.rng.randint(100000, 999999)}@guest.booking.com",
            "expedia": f"{hexes}@m.expediapartnercentral.com",
            "airbnb": f"{first}-{hexes[:6]}@guest.airbnb.com",
        }[route]
        self._emails.add(address)
        person.email = address

    def give_phone(self, person: Person) -> None:
        person.phone, person.phone_e164 = self.phones.mobile(person.nationality)

    def contacts(self, person: Person, route: str, *, booker: bool) -> None:
        """Give the e-mail and phone a guest on this route would have left."""
        r = self.rng.random()
        if not booker:
            if person.minor:
                if person.birth_date and self.today.year - person.birth_date.year >= 15 and r < 0.4:
                    self.give_phone(person)
                return
            if r < 0.35:
                self.give_email(person)
            if self.rng.random() < 0.5:
                self.give_phone(person)
            return
        if route in ("booking", "expedia", "airbnb"):
            if r < 0.65:
                self.give_relay_email(person, route)
            elif r < 0.9:
                self.give_email(person)
            if self.rng.random() < 0.85:
                self.give_phone(person)
        elif route == "to":
            # Tour operators pass names and flights, rarely contact details.
            if r < 0.4:
                self.give_email(person)
            if self.rng.random() < 0.6:
                self.give_phone(person)
        elif route == "corporate":
            self.give_email(person, domain="acme.example")
            self.give_phone(person)
        else:
            if r < (0.5 if route == "walkin" else 0.95):
                self.give_email(person)
            if self.rng.random() < 0.92:
                self.give_phone(person)

    def party(
        self,
        scenario: str,
        *,
        country: str | None = None,
        shape: str | None = None,
        route: str | None = None,
    ) -> tuple[list[Person], str]:
        """Make the people travelling together (booker first) and the booking route."""
        code = country or self.pick(tuple((c.code, c.weight) for c in COUNTRIES))
        spec = _COUNTRY[code]
        voice = self.rng.choices(spec.voices, weights=[weight for *_, weight in spec.voices])[0]
        language, book_key, _ = voice
        shape = shape or (
            "solo"
            if scenario == "profile_only"
            else self.pick((("solo", 28), ("couple", 42), ("family", 25), ("friends", 5)))
        )
        route = route or self.pick(spec.routes)
        book = BOOKS[book_key]
        head_female = self.rng.random() < (0.5 if shape != "family" else 0.3)
        head_age = self.rng.randint(24, 72) if shape != "family" else self.rng.randint(29, 50)
        # Everyone travelling together shares the country, the language and the name book.
        traveller = functools.partial(self.person, code, language, book_key)
        head = traveller(female=head_female, age=head_age)
        people = [head]
        if shape in ("couple", "family"):
            shared = book.spouses_share_surname and self.rng.random() < 0.85
            partner = traveller(
                female=not head_female,
                age=max(20, head_age + self.rng.randint(-6, 6)),
                surname=head.surname_index if shared else None,
            )
            people.append(partner)
            if shape == "family":
                father = partner if head_female else head
                for _ in range(self.rng.choice((1, 1, 2, 2, 3))):
                    age = self.rng.randint(1, min(17, head_age - 20))
                    female = self.rng.random() < 0.5
                    people.append(
                        traveller(female=female, age=age, surname=father.surname_index, minor=True)
                    )
        elif shape == "friends":
            female = self.rng.random() < 0.5
            people.append(traveller(female=female, age=max(20, head_age + self.rng.randint(-4, 4))))
        if route in ("booking", "expedia", "airbnb") and scenario != "profile_only":
            head.source = Guest.Source.OTA
        for i, person in enumerate(people):
            self.contacts(person, route, booker=i == 0)
        return people, route


def build_plan(*, today: dt.date, now: dt.datetime, seed: int = SEED) -> Plan:
    """Draw the demo hotel for ``today``: the same day and seed always give the same plan."""
    planner = Planner(today=today, now=now, seed=seed)
    stays.add_parties(planner)
    profiles.decorate(planner)
    visits.add_visits(planner)
    return Plan(
        today=today,
        people=planner.people,
        stays=planner.stays,
        visits=planner.visits,
        merges=planner.merges,
    )
