"""Whether, where and when a message may go (S7, S9, G6, G7): the checks before sending.

Each check returns a skip reason (and words for staff) or nothing; the sender records a
skipped message with that reason instead of dropping it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from crm_messaging.phones import InvalidPhone, phone_info
from guests.contacts import normalise_email
from guests.models import ConsentPurpose, ContactChannel, Guest
from guests.selectors import (
    BLOCK_GREYLISTED,
    BLOCK_NO_CONSENT,
    BLOCK_NO_DATA_CONSENT,
    BLOCK_OPTED_OUT,
    block_reason_expression,
)

from .models import InboundMessage, MessagingPolicy, OutboundMessage, SkipReason, Status

PHONE_CHANNELS = frozenset({ContactChannel.SMS, ContactChannel.WHATSAPP, ContactChannel.VIBER})
# Messages the recipient is waiting for right now (a login code he asked for, the answer to
# his own message, a staff test): quiet hours do not hold them back.
ANSWER_SOURCES = frozenset({"portal", "auto_reply", "test"})
WHATSAPP_WINDOW = dt.timedelta(hours=24)

_BLOCK_TO_SKIP = {
    BLOCK_NO_DATA_CONSENT: SkipReason.NO_DATA_CONSENT,
    BLOCK_NO_CONSENT: SkipReason.NO_CONSENT,
    BLOCK_OPTED_OUT: SkipReason.OPTED_OUT,
    BLOCK_GREYLISTED: SkipReason.GREYLISTED,
}


@dataclass(frozen=True)
class Skip:
    reason: str  # a SkipReason
    detail: str


@dataclass(frozen=True)
class Address:
    to: str
    country: str


def resolve_address(*, channel: str, guest: Guest | None, to: str) -> Address | Skip:
    """Return the normalised address (and destination country) for ``channel``, or why there is none."""
    raw = to
    if not raw and guest is not None:
        raw = guest.email if channel == ContactChannel.EMAIL else guest.phone
    raw = (raw or "").strip()
    if not raw:
        return Skip(SkipReason.NO_ADDRESS, f"no {ContactChannel(channel).label} address")
    if channel == ContactChannel.EMAIL:
        try:
            return Address(normalise_email(raw), "")
        except ValidationError:
            return Skip(SkipReason.NO_ADDRESS, f"“{raw}” is not a valid e-mail address")
    try:
        info = phone_info(raw)
    except InvalidPhone as exc:
        return Skip(SkipReason.INVALID_NUMBER, str(exc.message))
    if not info.can_message:
        return Skip(
            SkipReason.INVALID_NUMBER,
            f"{info.e164} is a {info.kind} number and cannot take messages",
        )
    return Address(info.e164, info.region or "")


def consent_skips(guest_ids: list[int], *, purpose: str, channel: str) -> dict[int, Skip]:
    """Apply the consent and greylist rule (guests.selectors) to many guests in one query."""
    if not guest_ids:
        return {}
    rows = (
        Guest.objects.filter(pk__in=set(guest_ids))
        .annotate(block=block_reason_expression(purpose=purpose, channel=channel))
        .exclude(block="")
        .values_list("pk", "block")
    )
    return {pk: Skip(_BLOCK_TO_SKIP[block], block) for pk, block in rows}


def recent_marketing_counts(
    guest_ids: list[int], *, policy: MessagingPolicy, exclude: Sequence[int] = ()
) -> dict[int, int]:
    """Marketing messages per guest inside the frequency-cap window (fallback steps count once)."""
    if not guest_ids or not policy.frequency_cap_days:
        return {}
    since = timezone.now() - dt.timedelta(days=policy.frequency_cap_days)
    rows = (
        OutboundMessage.objects.filter(
            guest_id__in=set(guest_ids), purpose=ConsentPurpose.MARKETING, created_at__gte=since
        )
        .filter(
            status__in=[
                Status.QUEUED,
                Status.SENDING,
                Status.SENT,
                Status.DELIVERED,
                Status.UNKNOWN,
            ]
        )
        .filter(fallback_for__isnull=True)
        .exclude(pk__in=list(exclude))
        .values("guest_id")
        .annotate(n=Count("pk"))
        .values_list("guest_id", "n")
    )
    return dict(rows)


def frequency_skip(*, count: int, policy: MessagingPolicy) -> Skip | None:
    """Refuse a marketing message to a guest who already had ``count`` in the window (S9)."""
    if not policy.frequency_cap_days or count < policy.frequency_cap_count:
        return None
    return Skip(
        SkipReason.FREQUENCY_CAP,
        f"{count} marketing messages in the last {policy.frequency_cap_days} days (cap {policy.frequency_cap_count})",
    )


def whatsapp_windows_open(numbers: list[str], *, at: dt.datetime | None = None) -> set[str]:
    """Return which of ``numbers`` wrote to us on WhatsApp in the last 24 hours (free text allowed)."""
    if not numbers:
        return set()
    since = (at or timezone.now()) - WHATSAPP_WINDOW
    return set(
        InboundMessage.objects.filter(
            from_number__in=set(numbers), channel=ContactChannel.WHATSAPP, sent_at__gte=since
        ).values_list("from_number", flat=True)
    )


def _one_clock(zones: tuple[str, ...] | list[str], at: dt.datetime) -> ZoneInfo | None:
    """Return a zone if all ``zones`` show the same time at ``at`` (UK mobiles: London, Jersey …)."""
    infos = [ZoneInfo(z) for z in zones if z != "Etc/Unknown"]
    if not infos or len({at.astimezone(z).utcoffset() for z in infos}) != 1:
        return None
    return infos[0]


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    """The IANA zone.tab table (shipped by the tzdata package): country → its zones."""
    table: dict[str, list[str]] = {}
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _, zone = line.split("\t")[:3]
            table.setdefault(country, []).append(zone)
    return {country: tuple(zones) for country, zones in table.items()}


def _country_zones(country: str) -> tuple[str, ...]:
    return _zones_by_country().get(country.upper(), ())


def recipient_timezone(*, to: str, guest: Guest | None, at: dt.datetime | None = None) -> ZoneInfo:
    """The guest's local time zone: from the phone number, else nationality, else the hotel's (S9).

    A number or country whose zones disagree (a Russian mobile spans eleven) does not decide.
    """
    at = at or timezone.now()
    if to.startswith("+"):
        try:
            zone = _one_clock(phone_info(to).timezones, at)
        except InvalidPhone:
            zone = None
        if zone is not None:
            return zone
    if guest is not None and guest.nationality:
        zone = _one_clock(_country_zones(str(guest.nationality)), at)
        if zone is not None:
            return zone
    return ZoneInfo(settings.TIME_ZONE)


def quiet_hours_end(
    *,
    channel: str,
    purpose: str,
    to: str,
    guest: Guest | None,
    policy: MessagingPolicy,
    at: dt.datetime | None = None,
    source: str = "",
) -> dt.datetime | None:
    """Return when the quiet window ends if ``at`` falls inside it, else None.

    E-mail has none, and neither has an answer the recipient is waiting for (ANSWER_SOURCES).
    """
    window = policy.quiet_hours(purpose)
    if channel not in PHONE_CHANNELS or window is None or source in ANSWER_SOURCES:
        return None
    start, end = window
    at = at or timezone.now()
    local = at.astimezone(recipient_timezone(to=to, guest=guest, at=at))
    now_t = local.time()
    quiet = (start <= now_t < end) if start < end else (now_t >= start or now_t < end)
    if not quiet:
        return None
    day = local.date() if (start < end or now_t < end) else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=local.tzinfo).astimezone(dt.UTC)


def message_quiet_until(
    message: OutboundMessage, *, policy: MessagingPolicy, at: dt.datetime
) -> dt.datetime | None:
    """Return when ``message`` may go if ``at`` falls in its recipient's quiet hours, else None."""
    return quiet_hours_end(
        channel=message.channel,
        purpose=message.purpose,
        to=message.to,
        guest=message.guest,
        policy=policy,
        at=at,
        source=message.source,
    )
