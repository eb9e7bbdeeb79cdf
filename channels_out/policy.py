"""Whether, where and when a message may go (S7, S9, G6, G7): the checks before sending.

Each check returns a skip reason (and words for staff) or nothing; the sender records a
skipped message with that reason instead of dropping it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from crm_messaging.i18n import Phrase
from crm_messaging.phones import InvalidPhone, phone_info
from guests.contacts import normalise_email
from guests.models import ConsentPurpose, ContactChannel, Guest
from guests.selectors import (
    BLOCK_GREYLISTED,
    BLOCK_NO_CONSENT,
    BLOCK_NO_DATA_CONSENT,
    BLOCK_OPTED_OUT,
    block_reason_expression,
    latest_granted,
)

from .models import (
    EngagementTracking,
    InboundMessage,
    MessagingPolicy,
    OutboundMessage,
    SkipReason,
    Status,
    Suppression,
)

PHONE_CHANNELS = frozenset({ContactChannel.SMS, ContactChannel.WHATSAPP, ContactChannel.VIBER})
# Messages the recipient is waiting for right now (a login code he asked for, the answer to
# his own message, a staff test): quiet hours do not hold them back.
ANSWER_SOURCES = frozenset({"portal", "auto_reply", "test"})
WHATSAPP_WINDOW = dt.timedelta(hours=24)
# An approved WhatsApp template as Twilio's Content API names it: "HX" and 32 hex digits.
WHATSAPP_TEMPLATE_SID = re.compile(r"HX[0-9a-fA-F]{32}")


def whatsapp_template_error(value: str) -> str | None:
    """Why ``value`` is not an approved WhatsApp template's content SID (in the active
    language), or None when it is one or is empty (no template)."""
    if not value or WHATSAPP_TEMPLATE_SID.fullmatch(value):
        return None
    return gettext(
        "This is not a WhatsApp template's content SID: it is “HX” followed by 32 letters "
        "a–f and digits, as Twilio's Content template builder shows it."
    )


_BLOCK_TO_SKIP = {
    BLOCK_NO_DATA_CONSENT: SkipReason.NO_DATA_CONSENT,
    BLOCK_NO_CONSENT: SkipReason.NO_CONSENT,
    BLOCK_OPTED_OUT: SkipReason.OPTED_OUT,
    BLOCK_GREYLISTED: SkipReason.GREYLISTED,
}


@dataclass(frozen=True)
class Skip:
    """Why a message does not go: a SkipReason and, where the reason alone does not say it
    all, a detail — a Phrase, stored in no language and read in the reader's (or, for a
    check whose words are not ours, such as a template's error, the text as it came)."""

    reason: str  # a SkipReason
    detail: Phrase | str = ""

    @property
    def text(self) -> str:
        """The detail in English: the message's ``reason`` (the API's and the export's words)."""
        return self.detail.english() if isinstance(self.detail, Phrase) else self.detail

    @property
    def words(self) -> dict[str, Any]:
        """The detail as stored for staff to read in their language (``OutboundMessage.detail``)."""
        return self.detail.as_json() if isinstance(self.detail, Phrase) else {}


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
        return Skip(
            SkipReason.NO_ADDRESS,
            # Channel names are the same in every language (ContactChannel's labels).
            Phrase(
                gettext_noop("no %(channel)s address"), {"channel": ContactChannel(channel).label}
            ),
        )
    if channel == ContactChannel.EMAIL:
        try:
            return Address(normalise_email(raw), "")
        except ValidationError:
            return Skip(
                SkipReason.NO_ADDRESS,
                Phrase(
                    gettext_noop("“%(address)s” is not a valid e-mail address"), {"address": raw}
                ),
            )
    try:
        info = phone_info(raw)
    except InvalidPhone as exc:
        return Skip(SkipReason.INVALID_NUMBER, exc.phrase)
    if not info.can_message:
        return Skip(
            SkipReason.INVALID_NUMBER,
            Phrase(
                gettext_noop("%(number)s is a %(kind)s number and cannot take messages"),
                {"number": info.e164, "kind": Phrase(info.kind)},
            ),
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
        Phrase(
            gettext_noop("%(count)s marketing messages in the last %(days)s days (cap %(cap)s)"),
            {"count": count, "days": policy.frequency_cap_days, "cap": policy.frequency_cap_count},
        ),
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
    """The guest's one local clock: from the phone number, else nationality, else the hotel's (S9).

    A number or country whose zones disagree (a Russian mobile spans eleven) does not decide;
    ``recipient_timezones`` lists every zone such a guest may be in.
    """
    at = at or timezone.now()
    for zones in _candidate_zones(to, guest):
        zone = _one_clock(zones, at)
        if zone is not None:
            return zone
    return ZoneInfo(settings.TIME_ZONE)


def _phone_zones(to: str) -> tuple[str, ...]:
    if not to.startswith("+"):
        return ()
    try:
        return phone_info(to).timezones
    except InvalidPhone:
        return ()


def _candidate_zones(to: str, guest: Guest | None) -> list[tuple[str, ...]]:
    """The number's zones, then the nationality's; each narrows the other when they share zones."""
    phone = _phone_zones(to)
    country = (
        _country_zones(str(guest.nationality)) if guest is not None and guest.nationality else ()
    )
    shared = tuple(zone for zone in phone if zone in country)
    return [zones for zones in (shared, phone, country) if zones]


def recipient_timezones(*, to: str, guest: Guest | None) -> tuple[ZoneInfo, ...]:
    """Every zone the guest may be in (S9): the number's time zones (phonenumbers), narrowed by
    the nationality when they share zones; without a usable number the nationality's zones;
    else the hotel's."""
    candidates = _candidate_zones(to, guest)
    if not candidates:
        return (ZoneInfo(settings.TIME_ZONE),)
    return tuple(ZoneInfo(zone) for zone in candidates[0] if zone != "Etc/Unknown")


def quiet_window(policy: MessagingPolicy, purpose: str) -> tuple[dt.time, dt.time] | None:
    """Return the (start, end) of the policy's quiet window for ``purpose``, or None for none."""
    start = getattr(policy, f"quiet_start_{purpose}", None)
    end = getattr(policy, f"quiet_end_{purpose}", None)
    if start is None or end is None or start == end:
        return None
    return start, end


def _window_end(
    at: dt.datetime, zone: ZoneInfo, start: dt.time, end: dt.time
) -> dt.datetime | None:
    """When the quiet window ``start``–``end`` ends in ``zone`` if ``at`` falls inside it, else None."""
    local = at.astimezone(zone)
    now_t = local.time()
    quiet = (start <= now_t < end) if start < end else (now_t >= start or now_t < end)
    if not quiet:
        return None
    day = local.date() if (start < end or now_t < end) else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=zone).astimezone(dt.UTC)


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

    A guest who may be in several zones (a +7 or +61 mobile) gets the most restrictive
    window: quiet while it is quiet in any of them, so nothing arrives before the end of the
    window anywhere he may be. When the zones' windows leave no moment of the day free (a
    long marketing window across eleven zones), the guest's one clock decides as
    ``recipient_timezone`` reads it, so a message is never held for ever. E-mail has no
    window, and neither has an answer the recipient is waiting for (ANSWER_SOURCES).
    """
    window = quiet_window(policy, purpose)
    if channel not in PHONE_CHANNELS or window is None or source in ANSWER_SOURCES:
        return None
    start, end = window
    at = at or timezone.now()
    zones = recipient_timezones(to=to, guest=guest)
    moment = at
    # Each step moves to the latest end among the zones still quiet; a free moment is found
    # within one pass over the zones unless the windows together cover the whole day.
    for _step in range(len(zones) + 1):
        ends = [e for zone in zones if (e := _window_end(moment, zone, start, end)) is not None]
        if not ends:
            return None if moment == at else moment
        moment = max(ends)
        if moment - at >= dt.timedelta(days=1):
            break
    return _window_end(at, recipient_timezone(to=to, guest=guest, at=at), start, end)


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


def suppressed_addresses(addresses: Sequence[str]) -> set[str]:
    """Return which of the e-mail ``addresses`` are suppressed (E2), in one query."""
    wanted = {a.lower() for a in addresses if a}
    if not wanted:
        return set()
    return set(
        Suppression.objects.filter(address__in=wanted, cleared_at__isnull=True).values_list(
            "address", flat=True
        )
    )


def suppression_skip(address: str) -> Skip:
    return Skip(SkipReason.SUPPRESSED, address)  # the label says "Address suppressed"


def analytics_refused(guest_ids: Sequence[int]) -> set[int]:
    """Return which guests refused analytics consent (their newest statement withdraws it)."""
    if not guest_ids:
        return set()
    return set(
        Guest.objects.filter(pk__in=set(guest_ids))
        .annotate(analytics=latest_granted(ConsentPurpose.ANALYTICS, ""))
        .filter(analytics=False)
        .values_list("pk", flat=True)
    )


def message_tracked(
    message: OutboundMessage, *, policy: MessagingPolicy, refused: set[int]
) -> bool:
    """Whether opens and clicks of ``message`` are tracked (E3): e-mail only, marketing (service
    mail when the house turns it on), an account that tracks, a guest who did not refuse."""
    return (
        message.channel == ContactChannel.EMAIL
        and (message.purpose == ConsentPurpose.MARKETING or policy.track_service_email)
        and message.account.engagement_tracking != EngagementTracking.OFF
        and (message.guest_id is None or message.guest_id not in refused)
    )
