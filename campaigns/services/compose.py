"""What each recipient of a campaign is sent: one path for sending, estimating and previewing.

A run's chunk, a cost estimate, a preview and the send confirmation all turn an audience
record into the same ``MessageRequest`` here — the variant in the guest's language, the
rendered text with every placeholder and link (``@UNSUBSCRIBE``, ``@PORTAL`` …), the
delivery plan with the hotel's switches, the dedupe key — and hand it to the sender layer:
``message_send_many`` queues it, ``SendForecast`` says what queueing it would do. So what
staff are shown is what the guest gets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from channels_out.models import SkipReason
from channels_out.policy import Address, Skip, resolve_address
from channels_out.services import MessageRequest, Step
from crm_messaging.actors import Actor
from crm_messaging.i18n import Phrase
from guests.links import guest_links
from guests.models import ContactChannel, FacilityBooking, Guest, Hotel, Reservation

from ..audiences import ADULT_AGE, judged_per_person, person_filters
from ..models import (
    Campaign,
    CampaignRun,
    CampaignSettings,
    MessageVariant,
    Recipients,
    Source,
    Timing,
    Trigger,
)
from ..occurrences import Occurrence, occurrence_key
from ..rendering import (
    CompiledVariant,
    Rendered,
    RenderError,
    build_context,
    choose_variant,
    compile_variant,
)
from ..survey import survey_url

# The key of a message not yet queued by a run: an operator or one-off send is keyed by its
# run (a new moment each time), so no logged message can have it.
UNSENT_RUN = "forecast"


def record_parts(
    campaign: Campaign, record: Any
) -> tuple[Guest, Reservation | None, FacilityBooking | None]:
    """Return (guest, reservation, facility booking) of an audience record."""
    if campaign.source == Source.GUESTS:
        return record, None, None
    if campaign.source == Source.RESERVATIONS:
        return record.booker, record, None
    return record.guest, record.reservation, record


def dedupe_key(
    campaign: Campaign,
    record: Any,
    occurrence: Occurrence,
    run: CampaignRun | None,
    companion: Guest | None = None,
) -> str:
    """(campaign, recipient record, occurrence) — channels_out adds the plan step (R1); a
    companion of the stay is his own recipient (``…:guest:<id>:…``)."""
    moment = occurrence_key(
        campaign, record, occurrence, run_id=run.pk if run is not None else UNSENT_RUN
    )
    person = f"guest:{companion.pk}:" if companion is not None else ""
    return f"campaign:{campaign.pk}:{record._meta.model_name}:{record.pk}:{person}{moment}"


def stay_candidates(campaign: Campaign, record: Any) -> list[Guest]:
    """Everyone of ``record`` the campaign might write to before any rule: the record's guest,
    and for a reservations campaign writing to more than the booker each companion."""
    guest, reservation, _booking = record_parts(campaign, record)
    if reservation is None or campaign.recipients == Recipients.BOOKER:
        return [guest]
    return [guest, *(c for c in reservation.companions.all() if c.pk != guest.pk)]


def stay_recipients(
    campaign: Campaign,
    record: Any,
    *,
    channel: str,
    day: dt.date,
    passes: Collection[int] | None = None,
) -> list[Guest]:
    """Who of ``record`` gets the campaign's message: its guest, and for a reservations
    campaign that says so the stay's companions.

    ``passes``: the ids of the people who pass the campaign's guest filters
    (``person_filters``), judged per person when the campaign writes to more than the
    booker — the booker who fails them gets nothing, a companion who passes does. None: no
    per-person filter (the booker alone was filtered with the stay).

    *Every adult*: each companion 18 or older on ``day`` (one without a birth date counts as
    an adult). *Each with his own contact*: each companion whose address on ``channel`` is
    valid and nobody's before him among those written to (a family sharing the booker's
    phone gets one message). The booker comes first.
    """
    candidates = stay_candidates(campaign, record)
    if len(candidates) == 1 and campaign.recipients == Recipients.BOOKER:
        return candidates
    booker, chosen, taken = candidates[0], [], set()
    for person in candidates:
        if passes is not None and person.pk not in passes:
            continue
        if person is not booker:
            if campaign.recipients == Recipients.ADULTS:
                age = person.age_on(day)
                if age is not None and age < ADULT_AGE:
                    continue
            elif not _address(person, channel) or _address(person, channel) in taken:
                continue
        taken |= {_address(person, channel)} - {""}
        chosen.append(person)
    return chosen


def _address(guest: Guest, channel: str) -> str:
    found = resolve_address(channel=channel, guest=guest, to="")
    return found.to if isinstance(found, Address) else ""


def record_context(
    campaign: Campaign,
    record: Any,
    *,
    hotel: Hotel,
    language: str,
    links: Mapping[str, str] | None = None,
    person: Guest | None = None,
) -> dict[str, Any]:
    """What the message's template sees for an audience record, in ``language``; ``person``
    is the guest it is written to when not the record's own (a companion of the stay)."""
    guest, reservation, facility_booking = record_parts(campaign, record)
    return build_context(
        guest=person or guest,
        reservation=reservation,
        facility_booking=facility_booking,
        hotel=hotel,
        links=links,
        language=language,
    )


def message_step(
    step: Any,
    variant: Any,
    rendered: Any,
    *,
    to: str = "",
    subject_prefix: str = "",
    shorten_links: bool = False,
) -> Step:
    """The sender's step for one step of the plan, carrying the rendered message: e-mail gets
    the subject and HTML, WhatsApp the approved template and its variables, every channel the
    text; ``shorten_links`` (the campaign's *shorten links in SMS*) goes with each step: an
    SMS step, or Viber's SMS fallback, applies it."""
    is_email = step.channel == ContactChannel.EMAIL
    is_whatsapp = step.channel == ContactChannel.WHATSAPP
    return Step(
        channel=step.channel,
        account=step.account,
        to=to,
        text=rendered.text,
        subject=f"{subject_prefix}{rendered.subject}" if is_email else "",
        html=rendered.html if is_email else "",
        template_id=variant.whatsapp_content_sid if is_whatsapp else "",
        template_variables=rendered.whatsapp_variables if is_whatsapp else {},
        shorten_links=shorten_links,
    )


def links_for(
    campaign: Campaign,
    guest: Guest,
    channel: str,
    *,
    survey: str = "",
    reservation: Reservation | None = None,
    language: str = "",
) -> dict[str, str]:
    """Links a message may carry: the guest's own unsubscribe link (@UNSUBSCRIBE), the portal
    (@PORTAL) and, when ``survey`` names an address template, the survey (@SURVEY)."""
    links = guest_links()
    found = {"unsubscribe": links.unsubscribe_url(guest, channel), "portal": links.portal_url()}
    if survey:
        found["survey"] = survey_url(
            survey, guest=guest, reservation=reservation, language=language
        )
    return found


def link_secrets(guest: Guest, channel: str) -> tuple[str, ...]:
    """What in ``links_for`` works as a key (the unsubscribe token): the send log masks it."""
    return (guest_links().unsubscribe_secret(guest, channel),)


def _expires_at(
    campaign: Campaign, record: Any, occurrence: Occurrence, arrival_time: dt.time
) -> dt.datetime | None:
    """After this moment the message is pointless (a reminder after the arrival, a birthday wish next week)."""
    zone = timezone.get_current_timezone()
    if campaign.timing in (Timing.DAYS_BEFORE_ARRIVAL, Timing.HOURS_BEFORE_ARRIVAL):
        return dt.datetime.combine(record.arrival, arrival_time, tzinfo=zone)
    if campaign.timing in (Timing.HOURS_BEFORE_START, Timing.DAYS_BEFORE_START):
        return record.starts_at
    if campaign.timing == Timing.ARRIVAL_DAY:
        return dt.datetime.combine(record.arrival + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    if campaign.timing in (Timing.DAYS_AFTER_ARRIVAL, Timing.DAYS_BEFORE_DEPARTURE):
        # A message for the stay is pointless once the guest has left.
        return dt.datetime.combine(
            record.departure + dt.timedelta(days=1), dt.time.min, tzinfo=zone
        )
    if campaign.timing == Timing.BIRTHDAY:
        return dt.datetime.combine(occurrence.day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return occurrence.at + dt.timedelta(days=2)


@dataclass(frozen=True)
class Composed:
    """One record's message: the request for the sender, and what was rendered for it."""

    record: Any
    guest: Guest
    request: MessageRequest
    variant: MessageVariant | None = None
    rendered: Rendered | None = None
    failure: str = ""  # why it could not be rendered (kept on the run)


class Composer:
    """Compose a campaign's message for audience records, the way a run sends it.

    ``run`` is the run being sent (None for an estimate or a preview, which are made before
    there is one); ``trigger`` the trigger it runs for (default: the run's, else the
    campaign's) — automatic triggers leave SMS out when the hotel switched automatic SMS off.
    """

    def __init__(
        self,
        campaign: Campaign,
        occurrence: Occurrence,
        *,
        run: CampaignRun | None = None,
        trigger: str = "",
        user: Actor = None,
    ) -> None:
        self.campaign, self.occurrence, self.run = campaign, occurrence, run
        self.user = user if run is None else run.requested_by
        trigger = trigger or (run.trigger if run is not None else campaign.trigger)
        self.automatic = trigger != Trigger.OPERATOR
        self.hotel = Hotel.load()
        house = CampaignSettings.load()
        self.arrival_time = house.arrival_time
        self.survey = campaign.survey_url or house.survey_url
        self.steps = campaign.plan_steps()
        self.variants = campaign.message_variants()
        self._compiled: dict[int, CompiledVariant | RenderError] = {}
        # Per person (``judge``): the guest filters, and who of the people seen passes them.
        self._person_filters = (
            person_filters(campaign, occurrence) if judged_per_person(campaign) else None
        )
        self._judged: dict[int, bool] = {}

    def _compile(self, variant: MessageVariant) -> CompiledVariant:
        """Compile each variant once (a draft's unsaved variants have no compile cache)."""
        key = id(variant)
        if key not in self._compiled:
            try:
                self._compiled[key] = compile_variant(variant)
            except RenderError as exc:
                self._compiled[key] = exc
        found = self._compiled[key]
        if isinstance(found, RenderError):
            raise found
        return found

    def judge(self, records: Iterable[Any]) -> None:
        """Judge the guest filters on everyone of ``records`` in one query, when the campaign
        judges them per person (``judged_per_person``); ``compose_all`` asks for the rest."""
        if not judged_per_person(self.campaign):
            return
        wanted = {
            person.pk
            for record in records
            for person in stay_candidates(self.campaign, record)
            if person.pk not in self._judged
        }
        if not wanted:
            return
        passing: set[int] = set()
        if self._person_filters is not None:
            passing = set(
                Guest.objects.filter(self._person_filters, pk__in=wanted).values_list(
                    "pk", flat=True
                )
            )
        self._judged.update({pk: pk in passing for pk in wanted})

    def compose_many(self, records: Iterable[Any]) -> list[Composed]:
        """``compose_all`` of each record, the people of them all judged in one query."""
        records = list(records)
        self.judge(records)
        return [item for record in records for item in self.compose_all(record)]

    def compose_all(self, record: Any) -> list[Composed]:
        """Return the requests of everyone ``record`` reaches (``stay_recipients``): the
        record's guest, and the companions the campaign writes to, each his own message."""
        channel = self.steps[0].channel if self.steps else ContactChannel.SMS
        passes: set[int] | None = None
        if judged_per_person(self.campaign):
            self.judge([record])
            passes = {pk for pk, ok in self._judged.items() if ok}
        people = stay_recipients(
            self.campaign, record, channel=channel, day=self.occurrence.day, passes=passes
        )
        own, _reservation, _booking = record_parts(self.campaign, record)
        return [self.compose(record, person=None if p.pk == own.pk else p) for p in people]

    def compose(self, record: Any, *, person: Guest | None = None) -> Composed:
        """Return ``record``'s request — to ``person`` when a companion of the stay, else to the
        record's guest: its plan and rendered message, or the skip that says why not."""
        campaign, steps = self.campaign, self.steps
        guest, reservation, facility_booking = record_parts(campaign, record)
        guest = person or guest
        variant = choose_variant(self.variants, guest.language)
        common: dict[str, Any] = {
            "purpose": campaign.purpose,
            "guest": guest,
            "reservation": reservation,
            "facility_booking": facility_booking,
            "dedupe_key": dedupe_key(campaign, record, self.occurrence, self.run, person),
            "origin": self.run,
            "source": "campaign",
            "user": self.user,
            "expires_at": _expires_at(campaign, record, self.occurrence, self.arrival_time),
        }
        if variant is None or not steps:
            reason = Phrase(gettext_noop("the campaign has no message or no channel"))
            return Composed(
                record,
                guest,
                MessageRequest(
                    steps=[Step(channel=steps[0].channel if steps else ContactChannel.SMS)],
                    skip=Skip(SkipReason.RENDER_ERROR, reason),
                    **common,
                ),
                failure=reason.english(),
            )
        links: dict[str, str] | None = None
        try:
            compiled = self._compile(variant)
            # The guest's own links are signed per guest: only for a message that shows them.
            links = (
                links_for(
                    campaign,
                    guest,
                    steps[0].channel,
                    survey=self.survey,
                    reservation=reservation,
                    language=variant.language,
                )
                if compiled.uses_links
                else None
            )
            context = record_context(
                campaign,
                record,
                hotel=self.hotel,
                language=variant.language,
                links=links,
                person=person,
            )
            rendered = compiled.render(context)
        except RenderError as exc:
            return Composed(
                record,
                guest,
                MessageRequest(
                    steps=[Step(channel=steps[0].channel, account=steps[0].account)],
                    language=variant.language,
                    skip=Skip(SkipReason.RENDER_ERROR, exc.phrase),
                    **common,
                ),
                variant=variant,
                failure=str(exc),
            )
        # The hotel's automatic-SMS switch (seed 001) is applied by the sender, to SMS steps
        # and Viber's SMS fallback alike (``automatic``).
        request = MessageRequest(
            steps=[
                message_step(step, variant, rendered, shorten_links=campaign.shorten_links)
                for step in steps
            ],
            language=variant.language,
            secrets=link_secrets(guest, steps[0].channel) if links else (),
            automatic=self.automatic,
            **common,
        )
        return Composed(record, guest, request, variant=variant, rendered=rendered)
