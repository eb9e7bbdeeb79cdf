"""Guest profile writes: create, update, consent, greylist, contact confirmation."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any, NotRequired, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from crm_messaging.actors import Actor, acting_user, record_staff_actions
from crm_messaging.phones import InvalidPhone, normalise_phone

from ..contacts import normalise_email
from ..models import (
    PROFILE_FIELDS,
    ConsentPurpose,
    ConsentRecord,
    GreylistEntry,
    Guest,
    Reservation,
    consent_channel_error,
    consent_source_error,
)
from ..signals import consent_recorded


def _contact_values(*, email: str | None, phone: str | None, strict_phone: bool) -> dict[str, Any]:
    """Normalise contact input into field values; raise ValidationError naming the field."""
    values: dict[str, Any] = {}
    errors: dict[str, list[ValidationError]] = {}
    if email is not None:
        try:
            values["email"] = normalise_email(email)
        except ValidationError:
            # Lazy, with its parameter: a form shows it in the language it renders in, an
            # import's report keeps it as a Phrase (crm_messaging.i18n.error_phrases).
            errors["email"] = [
                ValidationError(
                    gettext_lazy("“%(email)s” is not a valid e-mail address."),
                    code="invalid_email",
                    params={"email": email},
                )
            ]
    if phone is not None:
        raw = phone.strip()
        if not raw:
            values.update(phone="", phone_valid=False)
        else:
            try:
                values.update(phone=normalise_phone(raw), phone_valid=True)
            except InvalidPhone as exc:
                if strict_phone:
                    errors["phone"] = [exc]
                else:
                    # Imported data: keep what was given so staff can fix it; never dialled.
                    values.update(phone=raw[:32], phone_valid=False)
    if errors:
        raise ValidationError(errors)
    return values


# A profile field's column (``loyalty_tier`` → ``loyalty_tier_id``).
_ATTNAMES = {field.name: field.attname for field in Guest._meta.concrete_fields}


def _column(value: Any) -> Any:
    """A value as its column holds it (a related row as its id)."""
    return value.pk if isinstance(value, models.Model) else value


@contextlib.contextmanager
def _every_error() -> Iterator[dict[str, list[ValidationError]]]:
    """Collect a ValidationError raised in the block (by field) instead of stopping at it, so
    that ``_full_clean`` reports it together with the profile's own problems. The errors are
    kept as they were raised (lazy, with their parameters), so a form reads them in its
    language and an import's report keeps them as phrases."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        yield errors
    except ValidationError as exc:
        errors.update(exc.error_dict)


@functools.cache
def _country_codes() -> frozenset[str]:
    field = Guest._meta.get_field("nationality")
    assert isinstance(field, models.Field)
    return frozenset(str(code) for code, _name in field.choices or [])


def _full_clean(guest: Guest, errors: dict[str, list[ValidationError]]) -> None:
    """Check the profile; raise every problem at once, those collected before included."""
    try:
        # The one check constraint (a valid phone is E.164) is the contact rules' business:
        # with the phone left out it has nothing to check. The nationality is checked below:
        # its field builds its 250 choices on every check (a millisecond a profile).
        guest.full_clean(exclude=["phone", "email", "nationality"], validate_constraints=False)
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            errors.setdefault(field, []).extend(field_errors)
    code = str(getattr(guest.nationality, "code", guest.nationality) or "")
    if code and code not in _country_codes():
        nationality = Guest._meta.get_field("nationality")
        assert isinstance(nationality, models.Field)
        try:
            raise ValidationError(
                nationality.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": code},
            )
        except ValidationError as exc:
            errors.setdefault("nationality", []).extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


def _check_profile_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown guest field(s): {', '.join(sorted(unknown))}")


def guest_build(
    *,
    first_name: str,
    email: str = "",
    phone: str = "",
    strict_phone: bool = True,
    **profile: Any,
) -> Guest:
    """A new guest profile, checked as ``guest_create`` checks it, but not saved: raise
    ValidationError naming every problem. ``guests_save_new`` stores it."""
    _check_profile_fields(profile)
    guest = Guest(first_name=first_name.strip(), **profile)
    with _every_error() as errors:
        for field, value in _contact_values(
            email=email, phone=phone, strict_phone=strict_phone
        ).items():
            setattr(guest, field, value)
    _full_clean(guest, errors)
    return guest


def guests_save_new(guests: list[Guest], *, user: Actor = None) -> None:
    """Store new profiles built by ``guest_build`` (several in one statement) and keep each
    in its history with ``user``."""
    if len(guests) == 1:
        guests[0].save()
    elif guests:
        Guest.objects.bulk_create(guests)
    record_staff_actions(user, guests, "Created.", added=True)


def guest_create(
    *,
    first_name: str,
    email: str = "",
    phone: str = "",
    strict_phone: bool = True,
    user: Actor = None,
    **profile: Any,
) -> Guest:
    """Create a guest profile.

    Phone numbers are stored in E.164; an invalid one raises ValidationError unless
    ``strict_phone`` is off (imports), in which case it is kept as given and marked invalid.
    Raises ValidationError for a malformed e-mail or any invalid field. The new profile is
    kept in the guest's history with ``user``.
    """
    guest = guest_build(
        first_name=first_name, email=email, phone=phone, strict_phone=strict_phone, **profile
    )
    guests_save_new([guest], user=user)
    return guest


@transaction.atomic
def guest_update(
    *,
    guest: Guest,
    email: str | None = None,
    phone: str | None = None,
    strict_phone: bool = True,
    user: Actor = None,
    **profile: Any,
) -> Guest:
    """Change profile fields; a changed e-mail loses its verified mark. What changed is kept in
    the guest's history with ``user``. Raises ValidationError."""
    guest_apply_changes(
        guest=guest, email=email, phone=phone, strict_phone=strict_phone, user=user, **profile
    )
    return guest


def guest_changed_fields(stored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """The fields of ``wanted`` (profile and normalised contact values) that differ from
    ``stored`` (the stored row's columns by attname)."""
    return [name for name, value in wanted.items() if stored.get(_ATTNAMES[name]) != _column(value)]


def guest_apply_changes(
    *,
    guest: Guest,
    email: str | None = None,
    phone: str | None = None,
    strict_phone: bool = True,
    user: Actor = None,
    **profile: Any,
) -> list[str]:
    """``guest_update`` that returns the names of the fields that changed; with none, nothing
    is written (not even the modification time). Call inside a transaction."""
    changed = guest_prepare_changes(
        guest=guest, email=email, phone=phone, strict_phone=strict_phone, **profile
    )
    guests_save_changed([(guest, changed)], user=user)
    return changed


def guest_prepare_changes(
    *,
    guest: Guest,
    stored: dict[str, Any] | None = None,
    email: str | None = None,
    phone: str | None = None,
    strict_phone: bool = True,
    **profile: Any,
) -> list[str]:
    """``guest_apply_changes`` without the write: bring ``guest`` in line in memory, check him
    and return the fields that differ from his stored row — ``stored``, its columns by
    attname, when the caller has just read it, else read here. Raises ValidationError.
    ``guests_save_changed`` stores him."""
    _check_profile_fields(profile)
    contact: dict[str, Any] = {}
    with _every_error() as errors:
        contact = _contact_values(email=email, phone=phone, strict_phone=strict_phone)
    # Compare with the stored row: the instance may already carry the new values (a form).
    wanted = {**profile, **contact}
    if stored is None:
        columns = [_ATTNAMES[name] for name in wanted]
        stored = Guest.objects.filter(pk=guest.pk).values(*columns).first() or {}
    changed = guest_changed_fields(stored, wanted)
    for field, value in profile.items():
        setattr(guest, field, value)
    if "email" in contact and contact["email"].lower() != str(stored.get("email") or "").lower():
        guest.email_verified = False
    for field, value in contact.items():
        setattr(guest, field, value)
    _full_clean(guest, errors)
    return changed


def guests_save_changed(changes: list[tuple[Guest, list[str]]], *, user: Actor = None) -> None:
    """Store profiles ``guest_prepare_changes`` brought in line — several in one statement —
    each with its history entry naming the changed fields; one without changes is not
    written."""
    changed = [(guest, fields) for guest, fields in changes if fields]
    if len(changed) == 1:
        changed[0][0].save()
    elif changed:
        # What save() writes that can differ from the stored row: the changed fields, the
        # verified mark a new e-mail loses, the modification time. Profiles that changed the
        # same fields are written by one statement.
        now = timezone.now()
        groups: dict[tuple[str, ...], list[Guest]] = {}
        for guest, fields in changed:
            guest.updated_at = now
            written = {*fields, "updated_at", *(["email_verified"] if "email" in fields else [])}
            groups.setdefault(tuple(sorted(written)), []).append(guest)
        for written_fields, guests in groups.items():
            Guest.objects.bulk_update(guests, written_fields)
    record_staff_actions(
        user,
        [guest for guest, _fields in changed],
        [f"Changed {', '.join(fields)}." for _guest, fields in changed],
    )


def consent_build(
    *,
    guest: Guest,
    purpose: str,
    granted: bool,
    source: str,
    channel: str = "",
    wording_version: str = "",
    note: str = "",
    user: Actor = None,
    at: dt.datetime | None = None,
) -> ConsentRecord:
    """One consent statement, checked as ``guest_record_consent`` checks it, not saved.

    Raises ValidationError for an unknown purpose, channel or source, or a channel that does
    not fit the purpose.
    """
    errors: dict[str, str] = {}
    if purpose not in ConsentPurpose.values:
        errors["purpose"] = f"Unknown consent purpose “{purpose}”."
    if source_error := consent_source_error(source):
        errors["source"] = source_error
    if channel_error := consent_channel_error(purpose, channel):
        errors["channel"] = channel_error
    if errors:
        raise ValidationError(errors)
    return ConsentRecord(
        guest=guest,
        purpose=purpose,
        channel=channel,
        granted=granted,
        source=source,
        wording_version=wording_version,
        note=note[:255],
        recorded_by=acting_user(user),
        recorded_at=at or timezone.now(),
    )


def consents_save_new(records: list[ConsentRecord], *, user: Actor = None) -> None:
    """Append statements built by ``consent_build`` (several in one statement); each takes
    effect at once and sends ``consent_recorded``."""
    if len(records) == 1:
        records[0].save()
    elif records:
        ConsentRecord.objects.bulk_create(records)
    for record in records:
        consent_recorded.send(sender=ConsentRecord, record=record, user=user)


class ConsentStatement(TypedDict):
    """What one consent statement says (``consent_build``'s keywords but the acting user)."""

    guest: Guest
    purpose: str
    granted: bool
    source: str
    channel: NotRequired[str]
    wording_version: NotRequired[str]
    note: NotRequired[str]
    at: NotRequired[dt.datetime | None]


@transaction.atomic
def guest_record_consent(
    *, user: Actor = None, **statement: Unpack[ConsentStatement]
) -> ConsentRecord:
    """Append one consent statement; it takes effect at once (G6).

    Data-processing consent takes no channel; service and marketing consent need one.
    Raises ValidationError for an unknown purpose, channel or source, or a channel that does
    not fit the purpose.
    """
    record = consent_build(user=user, **statement)
    consents_save_new([record], user=user)
    return record


def guest_greylist(
    *, guest: Guest, reason: str, expires_at: dt.datetime | None = None, user: Actor = None
) -> GreylistEntry:
    """Put ``guest`` on the greylist (G7): marketing stops, service messages still go.

    Raises ValidationError without a reason or with an expiry in the past.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": gettext("Say why the guest is greylisted.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": gettext("The expiry must be in the future.")})
    return GreylistEntry.objects.create(
        guest=guest,
        reason=reason[:255],
        expires_at=expires_at,
        created_by=acting_user(user),
    )


@transaction.atomic
def greylist_lift(*, entry: GreylistEntry, user: Actor = None, reason: str = "") -> GreylistEntry:
    """End a greylist entry now. Raises ValidationError if it is no longer in force."""
    locked = GreylistEntry.objects.select_for_update().get(pk=entry.pk)
    if not locked.is_active():
        raise ValidationError(gettext("This greylist entry is no longer in force."))
    locked.lifted_at = timezone.now()
    locked.lifted_by = acting_user(user)
    locked.lift_reason = reason[:255]
    locked.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    entry.refresh_from_db()
    return locked


def guest_recount_stays(guest: Guest) -> int:
    """Recompute the guest's completed stays (as booker or companion) and store the count."""
    count = (
        Reservation.objects.filter(status=Reservation.Status.CHECKED_OUT)
        .filter(Q(booker=guest) | Q(companion_links__guest=guest))
        .distinct()
        .count()
    )
    Guest.objects.filter(pk=guest.pk).update(stay_count=count)
    guest.stay_count = count
    return count
