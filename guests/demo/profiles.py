"""What staff and guests added to the profiles: birthdays, VIP and loyalty, debts, warnings,
preferences, consent statements and greylist entries."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from ..contacts import is_ota_relay_email
from ..models import ConsentPurpose, ConsentSource, ContactChannel, Guest, Reservation
from .records import Consent, Greylisting, Person
from .stays import OTA_ROUTES

if TYPE_CHECKING:
    from .plan import Planner

Status = Reservation.Status
DAY = dt.timedelta(days=1)

_PREFERENCES = (
    "High floor",
    "Sea view",
    "Quiet room away from the lift",
    "Twin beds",
    "Extra pillows",
    "Feather-free bedding",
    "Early check-in when possible",
    "Late check-out",
    "Vegetarian meals",
    "Halal meals",
    "Sparkling water in the room",
    "Ground floor (knee problems)",
)
_ALLERGENS = (
    "Peanuts",
    "Tree nuts",
    "Gluten (coeliac)",
    "Shellfish",
    "Lactose",
    "Eggs",
    "Sesame",
    "Penicillin",
)
_NOTES = (
    "Regular since the hotel opened; knows the pool bar team by name.",
    "Prefers to be addressed in his or her own language at reception.",
    "Writes detailed reviews on TripAdvisor — handle complaints quickly.",
    "Wheelchair user: accessible room and ramp access to the beach.",
    "Travels with a service dog.",
    "Asked for invoices in the company's name.",
)
_WARNINGS = (
    "Left without paying the minibar bill on the last stay — take a deposit at check-in.",
    "Verbally abusive to bar staff when drunk; security informed.",
    "Smoked in a non-smoking room twice; cleaning fee charged.",
)
_CHARGEBACKS = "Disputed two card payments (chargebacks) — prepayment only, no credit."
# Consent wordings in force: the version a guest agreed to depends on when.
_WORDING_2025 = dt.date(2025, 1, 1)
_WORDING_PREFIX: dict[str, str] = {
    ConsentPurpose.DATA_PROCESSING: "KVKK-GDPR",
    ConsentPurpose.SERVICE: "SERVICE",
    ConsentPurpose.MARKETING: "MARKETING",
}


def _wording(purpose: str, day: dt.date) -> str:
    return f"{_WORDING_PREFIX[purpose]} v{3 if day >= _WORDING_2025 else 2}"


def _importers(p: Planner) -> None:
    """Profiles from the old PMS export, some with numbers nobody can dial."""
    imported = (
        ("TR", "0532 123 45"),
        ("RU", "+7 (999) 12-34"),
        ("GB", "+44 20 7946 01"),
        ("DE", "+49 30 901820"),
    )
    for country, typed in imported:
        (person,) = p.party("profile_only", country=country, shape="solo", route="direct")[0]
        # The Berlin landline is valid (but takes no SMS); the others cannot be dialled.
        person.phone, person.phone_e164 = typed, "+4930901820" if country == "DE" else ""
        person.strict_phone = False
        person.source = Guest.Source.IMPORT


def _created_on(p: Planner) -> None:
    for person in p.people:
        if person.stays:
            first = min(person.stays, key=lambda s: (s.booked_on, s.created_at or p.now))
            person.created_on = first.booked_on
            person.created_at = (first.created_at or p.now) - dt.timedelta(minutes=2)
        else:
            person.created_on = p.days(-p.rng.randint(5, 700))
            person.created_at = p.moment(
                person.created_on, p.rng.randint(8, 22), p.rng.randint(0, 59)
            )
            if person.source == Guest.Source.STAFF and person.email:
                person.source = Guest.Source.PORTAL  # signed up for the newsletter


def _current(person: Person, *outcomes: str, arrival: dt.date | None = None) -> bool:
    return any(
        s.outcome in outcomes and (arrival is None or s.arrival == arrival) for s in person.stays
    )


def _birthdays(p: Planner) -> None:
    today = p.today
    in_house = [
        x for x in p.people if _current(x, Status.CHECKED_IN) and x.stays[-1].departure > p.days(1)
    ]
    pools = [
        [x for x in in_house if x.minor],
        [x for x in in_house if not x.minor and x.stays[-1].booker is x],
        [x for x in p.people if not x.minor and _current(x, Status.CONFIRMED, arrival=today)],
        [
            x
            for x in p.people
            if not x.minor
            and _current(x, Status.CONFIRMED)
            and not _current(x, Status.CONFIRMED, arrival=today)
        ],
        [x for x in p.people if not x.stays and x.email],
        [
            x
            for x in p.people
            if not x.minor and x.stays and all(s.outcome == Status.CHECKED_OUT for s in x.stays)
        ],
    ]
    chosen: list[Person] = []
    for i, pool in enumerate(pools):
        pool = [x for x in pool if x not in chosen]
        if not pool:
            continue
        person = p.rng.choice(pool)
        person.birth_date = p.birth_date(
            person.age_on(today) or 1, month=today.month, day=today.day
        )
        chosen.append(person)
        if i == 1:
            p.roles["birthday"] = person.stays[-1]  # a dinner on the terrace tonight
    # A few more later this month, for "birthdays this month" campaigns.
    last = calendar.monthrange(today.year, today.month)[1]
    later = list(range(today.day + 1, last + 1))
    adults = [x for x in p.people if not x.minor and x not in chosen]
    for day, person in zip(
        later[:: max(1, len(later) // 6)][:6], p.rng.sample(adults, 6), strict=False
    ):
        person.birth_date = p.birth_date(person.age_on(today), month=today.month, day=day)


def _status(p: Planner) -> None:
    bookers = [x for x in p.people if not x.minor and any(s.booker is x for s in x.stays)]
    grand = [
        x for x in bookers if any(s.room_type in ("KS", "JS") for s in x.stays) or x.past_stays >= 2
    ]
    for i, person in enumerate(p.rng.sample(grand, min(14, len(grand)))):
        person.vip_level = (
            Guest.VipLevel.VVIP if i < 2 else Guest.VipLevel.VIP2 if i < 6 else Guest.VipLevel.VIP
        )
    numbers: set[str] = set()
    joined = p.rng.sample([x for x in bookers if not x.past_stays], 10)
    for person in bookers:
        if person in joined or (person.past_stays and p.rng.random() < 0.75):
            person.loyalty_tier = ("SILVER", "SILVER", "GOLD", "PLAT")[min(person.past_stays, 3)]
            number = f"LB{p.rng.randint(1_000_000, 9_999_999)}"
            while number in numbers:
                number = f"LB{p.rng.randint(1_000_000, 9_999_999)}"
            numbers.add(number)
            person.loyalty_number = number
    if bookers:
        top = max(bookers, key=lambda x: (x.past_stays, -x.key))
        top.loyalty_tier, top.vip_level = "PLAT", max(top.vip_level, Guest.VipLevel.VIP)


def _debts_and_warnings(p: Planner) -> None:
    def bookers(outcome: str) -> list[Person]:
        return [
            x
            for x in p.people
            if x.stays and x.stays[-1].booker is x and x.stays[-1].outcome == outcome
        ]

    debtors = [
        *[
            (x, "Open folio: spa and minibar extras")
            for x in p.rng.sample(bookers(Status.CHECKED_IN), 4)
        ],
        *[
            (x, "Unpaid minibar at check-out; promised a bank transfer")
            for x in p.rng.sample(bookers(Status.CHECKED_OUT), 3)
        ],
    ]
    for person, why in debtors:
        person.outstanding_balance = Decimal(p.rng.randint(4_550, 89_000)) / 100
        person.notes = "\n".join(filter(None, (person.notes, why)))
    past = [x for x in bookers(Status.CHECKED_OUT) if x.outstanding_balance == 0]
    for person, warning in zip(
        p.rng.sample(past, len(_WARNINGS) + 1), (*_WARNINGS, _CHARGEBACKS), strict=True
    ):
        person.warning_note = warning
        if warning is _CHARGEBACKS:
            person.outstanding_balance = Decimal("1240.00")
            p.roles_people["chargebacks"] = person


def _details(p: Planner) -> None:
    for person in p.people:
        r = p.rng.random()
        if r < 0.07:
            person.allergens = p.rng.choice(_ALLERGENS)
        if not person.minor and p.rng.random() < 0.22:
            person.preferences = ", ".join(p.rng.sample(_PREFERENCES, p.rng.choice((1, 1, 2))))
        if not person.minor and p.rng.random() < 0.05:
            person.notes = "\n".join(filter(None, (person.notes, p.rng.choice(_NOTES))))
        if person.source == Guest.Source.OTA and p.rng.random() < 0.15:
            person.gender = Guest.Gender.UNKNOWN  # the portal did not say
        own_email = person.email and not is_ota_relay_email(person.email)
        if own_email and person.source != Guest.Source.OTA and p.rng.random() < 0.3:
            person.verify_email = True


def _consent_source(person: Person) -> str:
    """How the guest's first statement reached us: with the booking, at the desk, on the portal."""
    first = min(person.stays, key=lambda s: s.booked_on) if person.stays else None
    if first is not None and first.route in (*OTA_ROUTES, "to", "web"):
        return ConsentSource.BOOKING
    if person.source == Guest.Source.PORTAL:
        return ConsentSource.GUEST_PORTAL
    if person.source == Guest.Source.IMPORT:
        return ConsentSource.IMPORT
    return ConsentSource.STAFF


def _marketing(
    p: Planner, person: Person, channels: list[str], source: str, at: dt.datetime
) -> None:
    """Opt in on some channels (maybe later, maybe withdrawn since), decline, or never answer."""
    day = person.created_on or p.today
    own = [
        c for c in channels if not (c == ContactChannel.EMAIL and is_ota_relay_email(person.email))
    ]
    if person.phone_e164 and person.nationality in ("UA", "RU", "KZ") and p.rng.random() < 0.4:
        own.append(ContactChannel.VIBER)
    r = p.rng.random()
    if not own or r < 0.25:
        return  # never consented to marketing
    marketing = ConsentPurpose.MARKETING
    if r < 0.35:
        note = "Left the newsletter box unticked"
        person.consents.append(
            Consent(marketing, own[0], False, source, at, _wording(marketing, day), note)
        )
        return
    later = day + p.rng.randint(0, max(0, (p.today - day).days)) * DAY
    granted_at = max(at, p.moment(later, p.rng.randint(8, 21)))
    how = ConsentSource.GUEST_PORTAL if person.verify_email else source
    picked = [c for c in own if p.rng.random() < 0.75] or own[:1]
    for channel in picked:
        person.consents.append(
            Consent(marketing, channel, True, how, granted_at, _wording(marketing, later))
        )
    if p.rng.random() < 0.12 and (p.today - later).days > 2:
        channel = p.rng.choice(picked)
        day_withdrawn = later + p.rng.randint(1, (p.today - later).days - 1) * DAY
        withdrawn = p.moment(day_withdrawn, p.rng.randint(8, 22))
        if channel == ContactChannel.EMAIL:
            person.consents.append(
                Consent(marketing, channel, False, ConsentSource.UNSUBSCRIBE_LINK, withdrawn)
            )
        else:
            person.consents.append(
                Consent(
                    marketing, channel, False, ConsentSource.INBOUND_KEYWORD, withdrawn, note="STOP"
                )
            )


def _consents(p: Planner) -> None:
    for person in p.people:
        if person.minor or p.rng.random() >= 0.93:
            continue  # children, and adults never asked: no statement at all
        source = _consent_source(person)
        day = person.created_on or p.today
        at = min((person.created_at or p.now) + dt.timedelta(minutes=1), p.now)
        data = ConsentPurpose.DATA_PROCESSING
        person.consents.append(Consent(data, "", True, source, at, _wording(data, day)))
        channels: list[str] = []
        if person.email:
            channels.append(ContactChannel.EMAIL)
        if person.phone_e164:
            channels += [ContactChannel.SMS, ContactChannel.WHATSAPP]
        if person.stays and person.stays[0].booker is person:
            service = ConsentPurpose.SERVICE
            for channel in channels:
                person.consents.append(
                    Consent(service, channel, True, source, at, _wording(service, day))
                )
        _marketing(p, person, channels, source, at)
    # One former guest withdrew data-processing consent altogether: nothing may reach him now.
    withdrawer = next(
        x
        for x in p.people
        if x.consents
        and x.stays
        and x.created_on is not None
        and x.created_on < p.days(-30)
        and all(s.outcome == Status.CHECKED_OUT for s in x.stays)
    )
    withdrawer.consents.append(
        Consent(
            ConsentPurpose.DATA_PROCESSING,
            "",
            False,
            ConsentSource.GUEST_PORTAL,
            p.moment(p.days(-12), 16, 5),
            note="Asked us to stop processing their data",
        )
    )


def _marketing_opt_in(person: Person) -> bool:
    current: dict[str, bool] = {}
    for consent in sorted(person.consents, key=lambda c: c.at):
        if consent.purpose == ConsentPurpose.MARKETING:
            current[consent.channel] = consent.granted
    return any(current.values())


def _greylist(p: Planner) -> None:
    candidates = [
        x for x in p.people if _marketing_opt_in(x) and x is not p.roles_people.get("chargebacks")
    ]
    chargebacks = p.roles_people.get("chargebacks")
    future, expired, lifted = p.rng.sample(candidates, 3)
    if chargebacks is not None:
        chargebacks.greylist.append(
            Greylisting(
                "Chargebacks on two stays — no offers until the debt is settled",
                p.moment(p.days(-120), 10),
                None,
            )
        )
    created = p.moment(p.days(-20), 11, 30)
    future.greylist.append(
        Greylisting(
            "Complained about the number of offers — pause marketing for three months",
            created,
            created + 90 * DAY,
        )
    )
    expired.greylist.append(
        Greylisting(
            "Asked for no offers during a family bereavement",
            p.moment(p.days(-200), 9, 15),
            p.moment(p.days(-20), 9, 15),
        )
    )
    lifted.greylist.append(
        Greylisting(
            "Suspected booking with a stolen card",
            p.moment(p.days(-60), 14),
            None,
            p.moment(p.days(-55), 10),
            "Card holder confirmed the booking by phone",
        )
    )


def decorate(p: Planner) -> None:
    _importers(p)
    _created_on(p)
    _birthdays(p)
    _status(p)
    _debts_and_warnings(p)
    _details(p)
    _consents(p)
    _greylist(p)
