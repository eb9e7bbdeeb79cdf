"""Upserts keyed by another system's ids (I1): the API, the PMS connectors and the import.

``guest_upsert``, ``reservation_upsert`` and ``facility_booking_upsert`` create the record the
first time a ``(source, external_id)`` pair is seen and bring it in line with ``data`` after
that. Only the keys present in ``data`` are applied; a value equal to the stored one changes
nothing, so the same data twice writes nothing (no row, no audit entry, no signal) the second
time and answers ``unchanged``. Every write goes through the services staff use: a status
the PMS reports moves the stay by ``reservation_check_in`` / ``check_out`` / ``cancel`` /
``mark_no_show``, so the same triggers fire as at the front desk, and a move the front desk
could not make raises ``TransitionError`` with the reason.

Related records in ``data`` may be given as objects or by reference: a guest or reservation by
its external id in the same source, a reference list item (room type, board type …) by its
code, a facility by its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext

from crm_messaging.actors import Actor

from ..models import (
    EXTERNAL_ID_MAX_LENGTH,
    PROFILE_FIELDS,
    SOURCE_PATTERN,
    SOURCE_RULE,
    Agency,
    BoardType,
    ConsentRecord,
    Facility,
    FacilityBooking,
    FacilityBookingExternalId,
    GreylistEntry,
    Guest,
    GuestExternalId,
    Hotel,
    LoyaltyTier,
    MarketSegment,
    Reservation,
    ReservationCompanion,
    ReservationExternalId,
    RoomType,
    SourceChannel,
    StayType,
)
from ..selectors import consent_current, guest_by_external_id, reservation_by_external_id
from . import reservations
from .facilities import (
    facility_booking_create,
    facility_booking_modify,
    facility_booking_set_status,
)
from .guests import (
    _column,
    consent_build,
    consents_save_new,
    greylist_lift,
    guest_apply_changes,
    guest_build,
    guest_create,
    guest_greylist,
    guest_prepare_changes,
    guest_record_consent,
    guests_save_changed,
    guests_save_new,
)

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"

Status = Reservation.Status
ModelT = TypeVar("ModelT", bound=models.Model)

# Profile fields an upsert may set; the profile's origin is the upsert's own business.
GUEST_FIELDS = frozenset(PROFILE_FIELDS) - {"source"} | {"email", "phone"}
GUEST_KEYS = GUEST_FIELDS | {"consents", "greylist"}
RESERVATION_REFERENCES: dict[str, type[models.Model]] = {
    "room_type": RoomType,
    "board_type": BoardType,
    "agency": Agency,
    "market_segment": MarketSegment,
    "stay_type": StayType,
    "source_channel": SourceChannel,
}
RESERVATION_KEYS = reservations.EDITABLE_FIELDS | {
    "booker",
    "companions",
    "status",
    "cancel_reason",
}
FACILITY_BOOKING_FIELDS = frozenset(
    {"guest", "facility", "starts_at", "ends_at", "party_size", "reservation", "notes", "status"}
)
CLOSED = (Status.CHECKED_OUT, Status.CANCELLED, Status.NO_SHOW)


def external_key_check(*, source: str, external_id: str) -> None:
    """Raise ValidationError unless ``source`` and ``external_id`` can key a record."""
    errors: dict[str, str] = {}
    if not SOURCE_PATTERN.match(source or ""):
        errors["source"] = str(SOURCE_RULE)
    if not (external_id or "").strip() or len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        errors["external_id"] = gettext("An external id is 1–%(max)d characters.") % {
            "max": EXTERNAL_ID_MAX_LENGTH
        }
    if errors:
        raise ValidationError(errors)


def _check_keys(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            {name: gettext("Unknown field; it cannot be written here.") for name in unknown}
        )


def _reference(model: type[ModelT], value: Any, field: str, *, by: str = "code") -> ModelT | None:
    """``value`` as a row of ``model``: itself, or looked up by ``by``; None stays None."""
    if value is None or isinstance(value, model):
        return value
    found = model._default_manager.filter(**{by: str(value)}).first()
    if found is None:
        raise ValidationError(
            {
                field: gettext("No %(what)s is called “%(value)s”.")
                % {
                    "what": model._meta.verbose_name,
                    "value": value,
                }
            }
        )
    return found


def _guest_ref(value: Any, *, source: str, field: str) -> Guest:
    if isinstance(value, Guest):
        return value
    guest = guest_by_external_id(source=source, external_id=str(value))
    if guest is None:
        raise ValidationError(
            {
                field: gettext("No guest has the id “%(id)s” in %(source)s.")
                % {
                    "id": value,
                    "source": source,
                }
            }
        )
    return guest


def _upsert(
    ref_model: type[models.Model],
    link: str,
    *,
    source: str,
    external_id: str,
    create: Callable[[], models.Model],
    update: Callable[[Any], bool],
) -> tuple[Any, str]:
    """Find the record ``source`` calls ``external_id`` (locked) and update it, or create it.

    Two first sight of the same id at once: the second waits for the first's id row, loses the
    race on its unique key (its own creation rolls back) and updates the winner's record.
    """
    external_key_check(source=source, external_id=external_id)
    for _attempt in range(2):
        ref = (
            ref_model._default_manager.select_for_update()
            .filter(source=source, external_id=external_id)
            .first()
        )
        if ref is not None:
            record = getattr(ref, link)
            return record, UPDATED if update(record) else UNCHANGED
        try:
            with transaction.atomic():
                record = create()
                ref_model._default_manager.create(
                    source=source, external_id=external_id, **{link: record}
                )
        except IntegrityError:
            if not ref_model._default_manager.filter(
                source=source, external_id=external_id
            ).exists():
                raise
            continue
        return record, CREATED
    raise RuntimeError("the external id row vanished twice")  # pragma: no cover


# --- guests ------------------------------------------------------------------------------------


@transaction.atomic
def guest_upsert(
    *,
    source: str,
    external_id: str,
    data: dict[str, Any],
    actor: Actor = None,
    consent_source: str = "",
    strict_phone: bool = True,
) -> tuple[Guest, str]:
    """Create or update the guest ``source`` calls ``external_id``; return it and the outcome
    (``created``, ``updated`` or ``unchanged``).

    ``data`` holds profile fields (``first_name`` … ``warning_note``, ``email``, ``phone``;
    ``loyalty_tier`` by code), and optionally ``consents`` — a list of ``{purpose, channel,
    granted, wording_version}``, each recorded with ``consent_source`` only when it differs
    from the guest's current statement — and ``greylist``: ``{reason, expires_at}`` puts the
    guest on the greylist unless he is on it, ``None`` lifts his entries. Phone numbers are
    read in the hotel's region; an invalid one raises ValidationError unless ``strict_phone``
    is off (then it is kept and marked invalid, as imports do). Raises ValidationError naming
    the field for unknown fields or invalid values; nothing is written then.
    """
    create, update = _guest_writers(
        data,
        actor=actor,
        consent_source=consent_source,
        strict_phone=strict_phone,
        origin=Guest.Source.EXTERNAL,
    )
    return _upsert(
        GuestExternalId,
        "guest",
        source=source,
        external_id=external_id,
        create=create,
        update=update,
    )


@transaction.atomic
def guest_apply(
    *,
    guest: Guest | None,
    data: dict[str, Any],
    actor: Actor = None,
    consent_source: str = "",
    strict_phone: bool = True,
    origin: str = Guest.Source.IMPORT,
) -> tuple[Guest, str]:
    """Create a guest from ``data`` (``guest`` None, his ``source`` is ``origin``) or bring
    ``guest`` in line with it, exactly as ``guest_upsert`` does with a guest found by his
    external id — for a caller that found him by other means (an import matching e-mail or
    phone). Return the guest and the outcome. Raises ValidationError; nothing is written then.
    """
    create, update = _guest_writers(
        data, actor=actor, consent_source=consent_source, strict_phone=strict_phone, origin=origin
    )
    if guest is None:
        return create(), CREATED
    locked = Guest.objects.select_for_update().get(pk=guest.pk)
    return locked, UPDATED if update(locked) else UNCHANGED


@dataclass
class NewGuest:
    """A guest an upsert would create, checked and not saved yet (``guests_save_upserted``)."""

    guest: Guest
    consents: list[ConsentRecord]
    source: str = ""
    external_id: str = ""


def guest_upsert_new(
    *,
    data: dict[str, Any],
    source: str = "",
    external_id: str = "",
    actor: Actor = None,
    consent_source: str = "",
    strict_phone: bool = True,
) -> NewGuest:
    """The guest ``guest_upsert`` creates when ``source`` has no ``external_id`` yet — or,
    without an external id, ``guest_apply`` with no guest — from ``data`` (without
    ``greylist``), with the consent statements it records; checked as they check it,
    nothing written. Raises ValidationError. For callers that create many at once."""
    if "greylist" in data:
        raise TypeError("guest_upsert_new() takes no greylist; use guest_upsert()")
    # In the order guest_upsert checks: the data, the key, then the new profile.
    writer = _GuestWriter(
        data,
        actor=actor,
        consent_source=consent_source,
        strict_phone=strict_phone,
        origin=Guest.Source.EXTERNAL if external_id else Guest.Source.IMPORT,
    )
    if external_id:
        external_key_check(source=source, external_id=external_id)
    guest, consents = writer.build()
    return NewGuest(guest, consents, source, external_id)


def guests_save_upserted(
    new: list[NewGuest], changed: list[ChangedGuest] | None = None, *, actor: Actor = None
) -> None:
    """Write guests from ``guest_upsert_new`` and ``guest_upsert_changes`` — several rows a
    statement — as the upserts would: each new profile and its history entry, each changed
    one and its entry naming the fields, the external ids, the consent statements (each
    sending ``consent_recorded``). A key another writer took meanwhile raises IntegrityError
    (roll back and go one by one). Call inside a transaction."""
    changed = changed or []
    guests_save_new([item.guest for item in new], user=actor)
    guests_save_changed([(item.guest, item.fields) for item in changed], user=actor)
    GuestExternalId.objects.bulk_create(
        [
            GuestExternalId(source=item.source, external_id=item.external_id, guest=item.guest)
            for item in new
            if item.external_id
        ]
    )
    statements = [record for item in new for record in item.consents]
    statements += [record for item in changed for record in item.consents]
    consents_save_new(statements, user=actor)


@dataclass
class ChangedGuest:
    """A known guest brought in line by an upsert in memory, not saved yet
    (``guests_save_upserted``): the fields that changed and the statements to record."""

    guest: Guest
    fields: list[str]
    consents: list[ConsentRecord]

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.consents)


def guest_upsert_changes(
    guest: Guest,
    *,
    data: dict[str, Any],
    current_consents: dict[tuple[str, str], ConsentRecord],
    actor: Actor = None,
    consent_source: str = "",
    strict_phone: bool = True,
) -> ChangedGuest:
    """What ``guest_upsert`` / ``guest_apply`` with ``data`` (without ``greylist``) do to
    ``guest`` — as loaded and locked, ``current_consents`` his current statements — done in
    memory and checked as they check it, nothing written. Raises ValidationError (``guest``
    may then hold some of the new values: do not save him)."""
    if "greylist" in data:
        raise TypeError("guest_upsert_changes() takes no greylist; use guest_upsert()")
    writer = _GuestWriter(
        data,
        actor=actor,
        consent_source=consent_source,
        strict_phone=strict_phone,
        origin=Guest.Source.IMPORT,
    )
    fields, consents = writer.prepare_update(guest, current_consents)
    return ChangedGuest(guest, fields, consents)


class _GuestWriter:
    """How ``data`` creates a guest, brings one in line (saying whether it changed him), or
    would change him — the one reading of ``data`` for every way in."""

    def __init__(
        self,
        data: dict[str, Any],
        *,
        actor: Actor,
        consent_source: str,
        strict_phone: bool,
        origin: str,
    ) -> None:
        _check_keys(data, GUEST_KEYS)
        profile = {key: value for key, value in data.items() if key in GUEST_FIELDS}
        if "loyalty_tier" in profile:
            profile["loyalty_tier"] = _reference(
                LoyaltyTier, profile["loyalty_tier"], "loyalty_tier"
            )
        self.data, self.profile, self.actor = data, profile, actor
        self.consent_source, self.strict_phone, self.origin = consent_source, strict_phone, origin
        self.consents = _consents(data.get("consents"), consent_source)

    def build(self) -> tuple[Guest, list[ConsentRecord]]:
        """The new guest and his consent statements, checked, not saved."""
        self._check_first_name()
        guest = guest_build(strict_phone=self.strict_phone, source=self.origin, **self.profile)
        statements = [
            consent_build(guest=guest, source=self.consent_source, user=self.actor, **statement)
            for statement in _consents_to_record({}, self.consents)
        ]
        return guest, statements

    def _check_first_name(self) -> None:
        if not str(self.profile.get("first_name") or "").strip():
            raise ValidationError({"first_name": gettext("A new guest needs a first name.")})

    def create(self) -> Guest:
        self._check_first_name()
        guest = guest_create(
            strict_phone=self.strict_phone, user=self.actor, source=self.origin, **self.profile
        )
        _apply_guest_extras(guest, self.data, self.consents, self.consent_source, self.actor)
        return guest

    def update(self, guest: Guest) -> bool:
        changed = bool(
            guest_apply_changes(
                guest=guest, strict_phone=self.strict_phone, user=self.actor, **self.profile
            )
        )
        extras = _apply_guest_extras(
            guest, self.data, self.consents, self.consent_source, self.actor
        )
        return extras or changed

    def prepare_update(
        self, guest: Guest, current: dict[tuple[str, str], ConsentRecord]
    ) -> tuple[list[str], list[ConsentRecord]]:
        """``update`` in memory: ``guest`` (as loaded; ``current``: his current consent
        statements) brought in line and checked, the statements to record; nothing written."""
        stored = {field.attname: getattr(guest, field.attname) for field in Guest._meta.fields}
        changed = guest_prepare_changes(
            guest=guest, stored=stored, strict_phone=self.strict_phone, **self.profile
        )
        statements = [
            consent_build(guest=guest, source=self.consent_source, user=self.actor, **statement)
            for statement in _consents_to_record(current, self.consents)
        ]
        return changed, statements


def _guest_writers(
    data: dict[str, Any],
    *,
    actor: Actor,
    consent_source: str,
    strict_phone: bool,
    origin: str,
) -> tuple[Callable[[], Guest], Callable[[Guest], bool]]:
    """How ``data`` creates a guest, and how it brings one in line (saying whether it changed him)."""
    writer = _GuestWriter(
        data, actor=actor, consent_source=consent_source, strict_phone=strict_phone, origin=origin
    )
    return writer.create, writer.update


def _consents(value: Any, consent_source: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(item, dict) for item in value):
        raise ValidationError({"consents": gettext("Give a list of consent statements.")})
    if value and not consent_source:
        raise ValidationError({"consents": gettext("Consents need the source that states them.")})
    statements = []
    for item in value:
        unknown = set(item) - {"purpose", "channel", "granted", "wording_version"}
        if unknown or not isinstance(item.get("granted"), bool):
            raise ValidationError(
                {
                    "consents": gettext(
                        "Each consent has a purpose, a channel, granted (true or false) and a wording version."
                    )
                }
            )
        statements.append(
            {
                "purpose": str(item.get("purpose") or ""),
                "channel": str(item.get("channel") or ""),
                "granted": item["granted"],
                "wording_version": str(item.get("wording_version") or "")[:40],
            }
        )
    return statements


def _apply_guest_extras(
    guest: Guest,
    data: dict[str, Any],
    consents: list[dict[str, Any]],
    consent_source: str,
    actor: Actor,
) -> bool:
    """Record the consents that differ from the current ones and set the greylist; say
    whether anything was written."""
    changed = False
    current = consent_current(guest) if consents else {}
    for statement in _consents_to_record(current, consents):
        guest_record_consent(guest=guest, source=consent_source, user=actor, **statement)
        changed = True
    if "greylist" in data:
        changed = _set_greylist(guest, data["greylist"], actor) or changed
    return changed


def _consents_to_record(
    current: dict[tuple[str, str], ConsentRecord], consents: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The statements that differ from the guest's ``current`` ones (the others are kept)."""
    wanted = []
    for statement in consents:
        record = current.get((statement["purpose"], statement["channel"]))
        if (
            record is not None
            and record.granted == statement["granted"]
            and (
                not statement["wording_version"]
                or record.wording_version == statement["wording_version"]
            )
        ):
            continue
        wanted.append(statement)
    return wanted


def _set_greylist(guest: Guest, wanted: Any, actor: Actor) -> bool:
    active = list(GreylistEntry.objects.active().filter(guest=guest))
    if wanted is None:
        for entry in active:
            greylist_lift(entry=entry, user=actor, reason=gettext("Lifted by the hotel's system."))
        return bool(active)
    if not isinstance(wanted, dict) or set(wanted) - {"reason", "expires_at"}:
        raise ValidationError(
            {"greylist": gettext("Give a reason (and an expiry, if any), or null to lift it.")}
        )
    if active:
        return False
    expires_at = wanted.get("expires_at")
    if expires_at is not None and not isinstance(expires_at, dt.datetime):
        raise ValidationError({"greylist": gettext("The expiry must be a date and time.")})
    guest_greylist(
        guest=guest, reason=str(wanted.get("reason") or ""), expires_at=expires_at, user=actor
    )
    return True


@dataclass
class _ReservationPlan:
    """``data`` of a reservation upsert, read and checked (references resolved)."""

    fields: dict[str, Any]
    status: str | None
    booker: Guest | None
    companions: list[Guest] | None
    cancel_reason: str

    def check_complete(self) -> None:
        """Raise ValidationError unless the plan holds what a new stay needs."""
        missing = [
            name
            for name, value in (
                ("booker", self.booker),
                ("arrival", self.fields.get("arrival")),
                ("departure", self.fields.get("departure")),
                ("room_type", self.fields.get("room_type")),
                ("board_type", self.fields.get("board_type")),
            )
            if value is None
        ]
        if missing:
            raise ValidationError(
                {name: gettext("A new reservation needs this field.") for name in missing}
            )


def _reservation_plan(source: str, data: dict[str, Any]) -> _ReservationPlan:
    _check_keys(data, RESERVATION_KEYS)
    fields = {key: value for key, value in data.items() if key in reservations.EDITABLE_FIELDS}
    for name, model in RESERVATION_REFERENCES.items():
        if name in fields:
            fields[name] = _reference(model, fields[name], name)
    status = data.get("status")
    if status is not None and status not in Status.values:
        raise ValidationError(
            {
                "status": gettext("Unknown status; use one of: %(list)s.")
                % {"list": ", ".join(Status.values)}
            }
        )
    booker = (
        _guest_ref(data["booker"], source=source, field="booker") if data.get("booker") else None
    )
    companions = None
    if data.get("companions") is not None:
        if not isinstance(data["companions"], list | tuple):
            raise ValidationError({"companions": gettext("Give a list of guests.")})
        companions = [_guest_ref(c, source=source, field="companions") for c in data["companions"]]
    cancel_reason = str(data.get("cancel_reason") or "")
    return _ReservationPlan(fields, status, booker, companions, cancel_reason)


# --- reservations ------------------------------------------------------------------------------


@transaction.atomic
def reservation_upsert(
    *,
    source: str,
    external_id: str,
    data: dict[str, Any],
    actor: Actor = None,
) -> tuple[Reservation, str]:
    """Create or update the reservation ``source`` calls ``external_id``; return it and the
    outcome (``created``, ``updated`` or ``unchanged``).

    ``data`` holds ``booker`` (required to create; it cannot change), the stay's fields
    (``arrival``, ``departure``, ``room_type`` and ``board_type`` — both required to create —
    by code, ``room_number``, ``adults`` …), ``companions`` (the full list: missing ones are
    added, others taken off) and ``status``. A new stay that is already over (checked out,
    cancelled, no-show) is recorded as history without triggers; any other status is reached
    by the front desk's transitions (a new in-house stay is created, then checked in), so
    they fire the same triggers. The details of a stay that is over are history and are not
    changed. Raises TransitionError for a move the front desk could not make (with the
    reason), ValidationError for invalid data; nothing is written then.
    """
    plan = _reservation_plan(source, data)
    fields, status, booker = plan.fields, plan.status, plan.booker
    companions, cancel_reason = plan.companions, plan.cancel_reason

    def create() -> Reservation:
        plan.check_complete()
        assert booker is not None
        extras = [c for c in companions or [] if c.pk != booker.pk]
        if status in CLOSED:
            details = {**fields, "cancel_reason": cancel_reason} if cancel_reason else fields
            return reservations.reservation_record_past(
                booker=booker, status=status, companions=extras, user=actor, **details
            )
        reservation = reservations.reservation_create(
            booker=booker, companions=extras, user=actor, **fields
        )
        if status == Status.CHECKED_IN:
            reservation = reservations.reservation_check_in(reservation=reservation, user=actor)
        return reservation

    def update(reservation: Reservation) -> bool:
        if booker is not None and booker.pk != reservation.booker_id:
            raise ValidationError(
                {
                    "booker": gettext(
                        "A reservation's booker cannot change; cancel it and book again."
                    )
                }
            )
        changed = False
        if reservation.is_active_stay:
            changes = _stay_changes(reservation, fields)
            if changes:
                reservations.reservation_modify(reservation=reservation, user=actor, **changes)
                changed = True
        if companions is not None:
            changed = _set_companions(reservation, companions, actor) or changed
        if status is not None and status != reservation.status:
            _move(reservation, status, cancel_reason=cancel_reason, actor=actor)
            changed = True
        return changed

    return _upsert(
        ReservationExternalId,
        "reservation",
        source=source,
        external_id=external_id,
        create=create,
        update=update,
    )


def reservation_upsert_new(
    *, source: str, external_id: str, data: dict[str, Any], hotel: Hotel
) -> Reservation | None:
    """The stay ``reservation_upsert`` books when ``source`` has no ``external_id`` yet, for
    ``data`` that books it plainly (no status past confirmed, no companions): checked as
    ``reservation_create`` checks it, not saved (its booker may be a guest not saved yet).
    None for other data (use ``reservation_upsert``). Raises ValidationError."""
    # In the order reservation_upsert checks: the data, the key, then the new stay.
    plan = _reservation_plan(source, data)
    external_key_check(source=source, external_id=external_id)
    if plan.companions or plan.status not in (None, Status.CONFIRMED):
        return None
    plan.check_complete()
    assert plan.booker is not None
    return reservations.reservation_build(hotel=hotel, booker=plan.booker, **plan.fields)


def reservations_save_upserted(
    new: list[tuple[str, str, Reservation]], *, hotel: Hotel, actor: Actor = None
) -> None:
    """Book ``(source, external_id, stay)`` from ``reservation_upsert_new`` — several a
    statement — as ``reservation_upsert`` would (``reservation_create``'s audit row and
    ``reservation_created`` signal for each) and keep their external ids. Call inside a
    transaction."""
    reservations.reservations_save_new(
        [stay for _source, _id, stay in new], hotel=hotel, user=actor
    )
    ReservationExternalId.objects.bulk_create(
        [
            ReservationExternalId(source=source, external_id=external_id, reservation=stay)
            for source, external_id, stay in new
        ]
    )


def reservation_upsert_would_change(
    reservation: Reservation, *, source: str, data: dict[str, Any]
) -> bool:
    """Whether ``reservation_upsert`` with ``data`` would change ``reservation`` (as loaded)
    — False: it would answer ``unchanged`` and write nothing. True also when it would refuse
    ``data`` (it says why) or when ``data`` lists companions (they are compared there)."""
    try:
        plan = _reservation_plan(source, data)
    except ValidationError:
        return True
    if plan.booker is not None and plan.booker.pk != reservation.booker_id:
        return True
    if plan.companions is not None:
        return True
    if reservation.is_active_stay and _stay_changes(reservation, plan.fields):
        return True
    return plan.status is not None and plan.status != reservation.status


def _stay_changes(reservation: Reservation, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value differs from the stay's stored one."""
    return {
        name: value
        for name, value in fields.items()
        if _stored(reservation, name) != _column(value)
    }


def _stored(record: models.Model, name: str) -> Any:
    field = record._meta.get_field(name)
    assert isinstance(field, models.Field)
    return getattr(record, field.attname)


def _set_companions(reservation: Reservation, wanted: list[Guest], actor: Actor) -> bool:
    wanted_ids = {g.pk for g in wanted if g.pk != reservation.booker_id}
    present = set(
        ReservationCompanion.objects.filter(reservation=reservation).values_list(
            "guest_id", flat=True
        )
    )
    for guest in wanted:
        if guest.pk in wanted_ids - present:
            reservations.reservation_add_companion(reservation=reservation, guest=guest, user=actor)
    for guest in Guest.objects.filter(pk__in=present - wanted_ids):
        reservations.reservation_remove_companion(reservation=reservation, guest=guest, user=actor)
    return wanted_ids != present


def _move(reservation: Reservation, status: str, *, cancel_reason: str, actor: Actor) -> None:
    """Take the stay to ``status`` by the front desk's transitions (confirmed → checked out
    passes through checked in); raise TransitionError for a move they refuse."""
    if status == Status.CONFIRMED:
        raise reservations.TransitionError(
            gettext("Reservation %(number)s is %(status)s: it cannot become confirmed again.")
            % {"number": reservation.number, "status": reservation.get_status_display().lower()}
        )
    if status == Status.CHECKED_OUT and reservation.status == Status.CONFIRMED:
        reservations.reservation_check_in(reservation=reservation, user=actor)
    if status in (Status.CHECKED_IN,):
        reservations.reservation_check_in(reservation=reservation, user=actor)
    elif status == Status.CHECKED_OUT:
        reservations.reservation_check_out(reservation=reservation, user=actor)
    elif status == Status.CANCELLED:
        reservations.reservation_cancel(reservation=reservation, reason=cancel_reason, user=actor)
    elif status == Status.NO_SHOW:
        reservations.reservation_mark_no_show(reservation=reservation, user=actor)


# --- facility bookings -------------------------------------------------------------------------


@transaction.atomic
def facility_booking_upsert(
    *,
    source: str,
    external_id: str,
    data: dict[str, Any],
    actor: Actor = None,
) -> tuple[FacilityBooking, str]:
    """Create or update the facility booking ``source`` calls ``external_id``; return it and the
    outcome.

    ``data``: ``guest`` (required to create; cannot change), ``facility`` (by name),
    ``starts_at``, ``ends_at``, ``party_size``, ``reservation`` (by its external id in the same
    source), ``notes`` and ``status`` (booked → attended, cancelled or no-show). Details of a
    booking that is no longer booked are not changed. Raises TransitionError for a status
    move out of a closed status, ValidationError for invalid data.
    """
    _check_keys(data, FACILITY_BOOKING_FIELDS)
    details = {
        key: value
        for key, value in data.items()
        if key in {"facility", "starts_at", "ends_at", "party_size", "reservation", "notes"}
    }
    if "facility" in details:
        details["facility"] = _reference(Facility, details["facility"], "facility", by="name")
    if details.get("reservation") is not None and not isinstance(
        details["reservation"], Reservation
    ):
        reservation = reservation_by_external_id(
            source=source, external_id=str(details["reservation"])
        )
        if reservation is None:
            raise ValidationError(
                {
                    "reservation": gettext("No reservation has the id “%(id)s” in %(source)s.")
                    % {
                        "id": details["reservation"],
                        "source": source,
                    }
                }
            )
        details["reservation"] = reservation
    guest = _guest_ref(data["guest"], source=source, field="guest") if data.get("guest") else None
    status = data.get("status")
    if status is not None and status not in FacilityBooking.Status.values:
        raise ValidationError(
            {
                "status": gettext("Unknown status; use one of: %(list)s.")
                % {"list": ", ".join(FacilityBooking.Status.values)}
            }
        )

    def create() -> FacilityBooking:
        missing = [
            name
            for name, value in (
                ("guest", guest),
                ("facility", details.get("facility")),
                ("starts_at", details.get("starts_at")),
            )
            if value is None
        ]
        if missing:
            raise ValidationError(
                {name: gettext("A new booking needs this field.") for name in missing}
            )
        assert guest is not None
        booking = facility_booking_create(guest=guest, user=actor, **details)
        if status is not None and status != FacilityBooking.Status.BOOKED:
            _facility_move(booking, status, actor)
        return booking

    def update(booking: FacilityBooking) -> bool:
        if guest is not None and guest.pk != booking.guest_id:
            raise ValidationError(
                {"guest": gettext("A booking's guest cannot change; cancel it and book again.")}
            )
        changed = False
        if booking.status == FacilityBooking.Status.BOOKED:
            changes = {
                name: value
                for name, value in details.items()
                if _stored(booking, name) != _column(value)
            }
            if changes:
                facility_booking_modify(booking=booking, user=actor, **changes)
                changed = True
        if status is not None and status != booking.status:
            _facility_move(booking, status, actor)
            changed = True
        return changed

    return _upsert(
        FacilityBookingExternalId,
        "booking",
        source=source,
        external_id=external_id,
        create=create,
        update=update,
    )


def _facility_move(booking: FacilityBooking, status: str, actor: Actor) -> None:
    try:
        facility_booking_set_status(booking=booking, status=status, user=actor)
    except reservations.TransitionError:
        raise
    except ValidationError as exc:
        raise reservations.TransitionError(exc.messages) from exc
