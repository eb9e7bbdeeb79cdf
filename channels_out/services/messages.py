"""Queueing messages (S1–S9, R1, R2): validate, log, price, reserve — in the caller's transaction.

``message_send`` (one message) and ``message_send_many`` (a campaign chunk) are the entry
points for the front desk, campaigns, the guest portal and the test command; the first is
the second with one item, so there is one code path. Rows are written in the caller's
transaction and handed to workers only after commit: a rolled-back cause sends nothing, a
committed one is never lost. A whole chunk costs a handful of queries, not a dozen per message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from crm_messaging.actors import Actor, acting_user
from crm_messaging.handoff import hand_off_on_commit
from crm_messaging.i18n import Phrase, stored_phrase
from guests.links import guest_links
from guests.models import (
    ConsentPurpose,
    ContactChannel,
    FacilityBooking,
    Guest,
    Reservation,
)

from .. import policy, tracking
from ..ledger import (
    PriceTable,
    available_credits,
    credits_release,
    credits_reserve_many,
    shortfall_phrase,
)
from ..mail_ids import new_message_id, reply_address
from ..models import (
    FINAL_STATUSES,
    ChannelAccount,
    DeliveryEvent,
    Hold,
    MessagingPolicy,
    OutboundMessage,
    ShortLink,
    SkipReason,
    Status,
)
from ..opt_out import text_as_sent
from ..text import (
    count_segments,
    seal,
    sealed_secrets,
    text_too_long,
    unsealed,
    unsendable_character,
)

MAX_SUBJECT_CHARS = 255
# As long as the send log's recipient column holds (an e-mail address's own limit, RFC 5321).
MAX_ADDRESS_CHARS = OutboundMessage._meta.get_field("to").max_length or 254
MAX_HTML_BYTES = 512 * 1024
# The refusals of a text message, per channel: each language words "an SMS" / "a Viber" its own way.
_NEEDS_TEXT = {
    ContactChannel.SMS: gettext_lazy("An SMS message needs a text."),
    ContactChannel.VIBER: gettext_lazy("A Viber message needs a text."),
}
DISPATCH_CHUNK = 200
# Skips after which the next step of a fallback plan is tried: this channel cannot reach the
# guest, but another may.
FALLBACK_SKIPS = frozenset(
    {
        SkipReason.NO_ADDRESS,
        SkipReason.INVALID_NUMBER,
        SkipReason.NO_CONSENT,
        SkipReason.OPTED_OUT,
        SkipReason.OUTSIDE_WINDOW,
        SkipReason.SUPPRESSED,
    }
)


@dataclass(frozen=True)
class Step:
    """One channel of a delivery plan and what to say on it."""

    channel: str
    account: ChannelAccount | None = None
    text: str = ""
    subject: str = ""
    html: str = ""
    template_id: str = ""
    template_variables: dict[str, Any] = field(default_factory=dict)
    to: str = ""
    # Sent as an SMS, its outside links become short links with click counts (E3), unless
    # the guest refused analytics consent; other channels send the text as written.
    shorten_links: bool = False

    def as_plan_item(self) -> dict[str, Any]:
        data = asdict(self)
        data["account"] = self.account.pk if self.account else None
        return data

    @classmethod
    def from_plan_item(cls, item: dict[str, Any]) -> Step:
        data = dict(item)
        account_id = data.pop("account", None)
        return cls(
            account=ChannelAccount.objects.get(pk=account_id) if account_id else None, **data
        )


@dataclass(frozen=True)
class MessageRequest:
    """One message to queue: its plan of steps and what it is about."""

    steps: Sequence[Step]
    purpose: str = ConsentPurpose.SERVICE
    guest: Guest | None = None
    reservation: Reservation | None = None
    facility_booking: FacilityBooking | None = None
    dedupe_key: str = ""
    origin: models.Model | None = None
    source: str = "api"
    language: str = ""
    user: Actor = None
    not_before: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Log the message as skipped for this reason instead of sending it (e.g. its template
    # failed to render for this recipient): the send log keeps every recipient.
    skip: policy.Skip | None = None
    # Codes and link tokens in the content: sent in full, stored masked (``text.seal``).
    secrets: Sequence[str] = ()
    # Sent by a trigger or a schedule, not by a person: the hotel's automatic-SMS switch
    # (seed 001) applies — off, no SMS goes, neither an SMS step nor Viber's SMS fallback.
    automatic: bool = False


def default_account(channel: str) -> ChannelAccount | None:
    """Return the active default account for ``channel``, or the only active one."""
    return AccountLookup().default(channel)


class AccountLookup:
    """Accounts looked up once per batch."""

    def __init__(self) -> None:
        self._defaults: dict[str, ChannelAccount | None] = {}

    def default(self, channel: str) -> ChannelAccount | None:
        if channel not in self._defaults:
            active = list(
                ChannelAccount.objects.filter(channel=channel, is_active=True).order_by(
                    "-is_default", "pk"
                )[:2]
            )
            chosen = active[0] if active and (active[0].is_default or len(active) == 1) else None
            self._defaults[channel] = chosen
        return self._defaults[channel]

    def for_step(self, step: Step) -> ChannelAccount | None:
        return step.account or self.default(step.channel)


def _a(label: str, *, start: bool = False) -> str:
    """Return the label with its indefinite article: "an SMS", "a Viber" ("An SMS" at the start)."""
    article = "an" if label in ("SMS", "E-mail") else "a"
    return f"{article.capitalize() if start else article} {label}"


# What each part of a message is called when it holds a character that cannot be sent.
_PARTS = {
    "subject": gettext_lazy("The subject"),
    "text": gettext_lazy("The text"),
    "html": gettext_lazy("The HTML body"),
    "to": gettext_lazy("The address"),
    "template_id": gettext_lazy("The WhatsApp template"),
    "template_variables": gettext_lazy("A WhatsApp template variable"),
    "headers": gettext_lazy("A header"),
    "account": gettext_lazy("The account's sender name or address"),
}


def unsendable(field_name: str, value: str, *, body: bool = False) -> str | None:
    """Say why ``value`` (the part ``field_name`` of a message) cannot reach a provider, or None.

    A body keeps its line breaks and tabs; a header-like part (subject, address, sender,
    template variable) holds visible text and spaces only (``channels_out.text``).
    """
    code = unsendable_character(value, body=body)
    if code is None:
        return None
    values = {"part": _PARTS[field_name], "code": code}
    if body:
        return (
            gettext(
                "%(part)s contains a character that cannot be sent (%(code)s); "
                "only line breaks and tabs are allowed besides visible text."
            )
            % values
        )
    return (
        gettext(
            "%(part)s contains a character that cannot be sent (%(code)s), "
            "such as a control character; not even a line break or tab is allowed here."
        )
        % values
    )


def _validate_step(
    step: Step, accounts: AccountLookup, *, purpose: str = "", language: str = ""
) -> ChannelAccount:
    """Refuse a step that cannot be sent as written (R4); return its account.

    The length limit is judged on the text as sent: a marketing message of ``purpose`` in
    ``language`` with the opt-out hint it ends with (``_text_as_sent``)."""
    errors: dict[str, list[str]] = {}

    def error(field_name: str, text: str) -> None:
        errors.setdefault(field_name, []).append(text)

    def check(field_name: str, value: str, *, body: bool = False) -> None:
        problem = unsendable(field_name, value, body=body)
        if problem:
            error(field_name, problem)

    if step.channel not in ContactChannel.values:
        raise ValidationError({"channel": f"Unknown channel “{step.channel}”."})
    label = ContactChannel(step.channel).label
    account = accounts.for_step(step)
    if account is None:
        error("account", gettext("No active %(channel)s account is set up.") % {"channel": label})
    elif account.channel != step.channel:
        error(
            "account",
            f"“{account.name}” is {_a(account.get_channel_display())} account, not {_a(label)} account.",
        )
    elif not account.is_active:
        error(
            "account",
            gettext("The account “%(account)s” is switched off.") % {"account": account.name},
        )
    check("to", step.to)
    if len(step.to) > MAX_ADDRESS_CHARS:
        error(
            "to",
            gettext("The address is longer than %(limit)s characters.")
            % {"limit": MAX_ADDRESS_CHARS},
        )
    check("text", step.text, body=True)
    if step.channel == ContactChannel.EMAIL:
        if not step.subject.strip():
            error("subject", gettext("An e-mail needs a subject."))
        if "\n" in step.subject or "\r" in step.subject:
            error("subject", gettext("The subject cannot contain a line break."))
        else:
            check("subject", step.subject)
        check("html", step.html, body=True)
        if account is not None:
            check("account", f"{account.sender_name}{account.sender}")
        if len(step.subject) > MAX_SUBJECT_CHARS:
            error(
                "subject",
                gettext("The subject is longer than %(limit)s characters.")
                % {"limit": MAX_SUBJECT_CHARS},
            )
        if not (step.text.strip() or step.html.strip()):
            error("text", gettext("An e-mail needs a text or HTML body."))
        if len(step.html.encode(errors="surrogatepass")) > MAX_HTML_BYTES:
            error(
                "html",
                gettext("The HTML body is larger than %(limit)s KB.")
                % {"limit": MAX_HTML_BYTES // 1024},
            )
    elif step.channel == ContactChannel.WHATSAPP:
        check("template_id", step.template_id)
        for name, value in step.template_variables.items():
            check("template_variables", f"{name}{value}")
        if not (step.template_id or step.text.strip()):
            error("text", gettext("A WhatsApp message needs an approved template or a text."))
    elif not step.text.strip():
        error("text", str(_NEEDS_TEXT[ContactChannel(step.channel)]))
    if step.channel != ContactChannel.EMAIL and account is not None:
        as_sent = _text_as_sent(step, account, purpose=purpose, language=language)
        if too_long := text_too_long(step.channel, as_sent):
            error("text", too_long)
    if errors:
        raise ValidationError(errors)
    assert account is not None
    return account


def _expand_plan(
    steps: Sequence[Step], house: MessagingPolicy, accounts: AccountLookup, *, sms: bool = True
) -> list[Step]:
    """Apply the house switches: Viber with an SMS fallback gets that SMS step; Viber off → SMS only.

    ``sms=False`` (automatic SMS switched off, for an automatic message) leaves out every SMS
    step, the fallback SMS included; the plan may then be empty.
    """
    plan: list[Step] = []
    for index, step in enumerate(steps):
        account = accounts.for_step(step)
        if (
            step.channel == ContactChannel.VIBER
            and account is not None
            and account.fallback_account_id
        ):
            fallback = Step(
                channel=ContactChannel.SMS,
                account=account.fallback_account,
                text=step.text,
                to=step.to,
                shorten_links=step.shorten_links,
            )
            if not house.viber_first:
                plan.append(fallback)
                continue
            plan.append(step)
            if not any(s.channel == ContactChannel.SMS for s in steps[index + 1 :]):
                plan.append(fallback)
            continue
        plan.append(step)
    if not sms:
        plan = [step for step in plan if step.channel != ContactChannel.SMS]
    return plan


SMS_SWITCHED_OFF = policy.Skip(
    SkipReason.NOTIFICATIONS_OFF,
    Phrase(gettext_noop("automatic SMS notifications are switched off")),
)


# --- a message's history: every status change, receipt, retry and decision is an event ----------


def delivery_event(
    message: OutboundMessage,
    status: str,
    *,
    source: str,
    description: Phrase | str = "",
    detail: dict[str, Any] | None = None,
    code: str = "",
    provider_status: str = "",
    payload: dict[str, Any] | None = None,
    applied: bool = True,
    by: Any = None,
) -> DeliveryEvent:
    """Return (unsaved, for a bulk insert) the event that ``message`` got ``status`` from
    ``source``; ``applied`` False when it changed nothing (a late receipt, a retry). Our own
    ``description`` is a Phrase: kept in English (the API's words) and in no language
    (``detail``, read by staff in their own); a provider's or a person's words are a str.
    ``detail`` gives the words in no language when they are already stored (``Skip.words``)."""
    if isinstance(description, Phrase):
        detail, description = description.as_json(), description.english()
    return DeliveryEvent(
        message=message,
        status=status,
        provider_status=provider_status,
        code=code,
        description=description[:500],
        detail=detail or {},
        source=source,
        applied=applied,
        payload=payload or {},
        by=by,
    )


def delivery_event_record(message: OutboundMessage, status: str, **kwargs: Any) -> DeliveryEvent:
    """Keep one event of ``message``'s history (see ``delivery_event`` for the arguments)."""
    event = delivery_event(message, status, **kwargs)
    event.save()
    return event


def _mark_skipped(message: OutboundMessage, skip: policy.Skip) -> None:
    message.status, message.skip_reason, message.reason, message.detail = (
        Status.SKIPPED,
        skip.reason,
        skip.text[:255],
        skip.words,
    )
    message.finished_at = timezone.now()


def message_skip(message: OutboundMessage, skip: policy.Skip, *, source: str) -> None:
    """Mark a queued ``message`` skipped (a check at sending time refused it: consent, expiry …),
    keep the event, release its credits, and go to the next step of its plan. A message no
    longer queued is left alone."""
    now = timezone.now()
    updated = OutboundMessage.objects.filter(pk=message.pk, status=Status.QUEUED).update(
        status=Status.SKIPPED,
        skip_reason=skip.reason,
        reason=skip.text[:255],
        detail=skip.words,
        finished_at=now,
        updated_at=now,
    )
    if not updated:
        return
    _mark_skipped(message, skip)
    delivery_event_record(
        message,
        Status.SKIPPED,
        source=source,
        description=skip.text,
        detail=skip.words,
        code=skip.reason,
    )
    credits_release(message)
    if skip.reason in FALLBACK_SKIPS:
        message_fall_back(message, reason=skip.detail or skip.reason)
    messages_wipe_sealed([message])


def _text_as_sent(step: Step, account: ChannelAccount, *, purpose: str, language: str) -> str:
    """The text ``step`` goes with: a marketing SMS, Viber message or WhatsApp free text ends
    with its account's opt-out hint in ``language`` (``opt_out.text_as_sent``). A service
    message never enters that module (tests/test_one_message_walk.py)."""
    if purpose != ConsentPurpose.MARKETING:
        return step.text
    return text_as_sent(
        step.text,
        channel=step.channel,
        purpose=purpose,
        account=account,
        language=language,
        template_id=step.template_id,
    )


def _opt_out(
    step: Step,
    account: ChannelAccount,
    *,
    purpose: str,
    guest: Guest | None,
    language: str,
    headers: dict[str, str],
) -> tuple[str, dict[str, str]]:
    """Every marketing message carries its way out (P3): one-click unsubscribe headers on
    e-mail, an opt-out hint at the end of an SMS, a Viber message or a WhatsApp free text
    (``_text_as_sent``) in the message's language, else the guest's. A WhatsApp template goes
    as Meta approved it (its own opt-out button or line, README)."""
    if purpose != ConsentPurpose.MARKETING:
        return step.text, headers
    if step.channel == ContactChannel.EMAIL and guest is not None:
        return step.text, {**headers, **guest_links().unsubscribe_headers(guest)}
    language = language or (guest.language if guest is not None else "")
    return _text_as_sent(step, account, purpose=purpose, language=language), headers


def _build(
    step: Step,
    account: ChannelAccount,
    *,
    key: str,
    purpose: str,
    guest: Guest | None,
    rest: list[Step],
    common: dict[str, Any],
    secrets: Sequence[str] = (),
    analytics_refused: bool = False,
) -> OutboundMessage:
    """The log row of ``step``, with ``secrets`` masked in what it stores (``text.seal``).

    An SMS step that asks for it has its outside links shortened (``tracking.shortened_text``)
    before anything is counted or stored, so the text priced, stored and sent is the short
    one; not for a guest who refused analytics consent (``analytics_refused``)."""
    text, headers = _opt_out(
        step,
        account,
        purpose=purpose,
        guest=guest,
        language=common.get("language") or "",
        headers=dict(common.pop("headers", {}) or {}),
    )
    short_links: dict[str, str] = {}
    if step.shorten_links and step.channel == ContactChannel.SMS and not analytics_refused:
        text, short_links = tracking.shortened_text(text)
    message = OutboundMessage(
        dedupe_key=key,
        channel=step.channel,
        purpose=purpose,
        account=account,
        backend=account.backend,
        to=step.to,
        guest=guest,
        subject=step.subject,
        body=text,
        headers=headers,
        html_body=step.html,
        template_id=step.template_id,
        template_variables=step.template_variables,
        fallback_plan=[s.as_plan_item() for s in rest],
        **common,
    )
    if short_links:
        message.tracked, message.new_short_links = True, short_links
    if step.channel == ContactChannel.EMAIL:
        # Fixed now, so a guest's reply names this row (services/email_replies.py).
        message.email_message_id = new_message_id(account.sender)
        reply_to = reply_address(message.email_message_id)
        if reply_to and not any(name.lower() == "reply-to" for name in message.headers):
            message.headers = {**message.headers, "Reply-To": reply_to}
    seal(message, secrets)
    return message


def _is_fallback(message: OutboundMessage) -> bool:
    """Whether ``message`` is a later step of another message's plan (saved or not)."""
    return message.fallback_for_id is not None or message.fallback_for is not None


def message_rows_assess(
    messages: list[OutboundMessage],
    house: MessagingPolicy,
    *,
    planned: Counter[int] | None = None,
) -> None:
    """Decide, in memory, for new rows: skipped (with reason) or queued (address, parts, price, wait).

    Everything a batch needs from the database is read in a few queries: consent per
    (purpose, channel), recent marketing counts, open WhatsApp windows, the price table.
    ``planned`` holds marketing messages decided earlier but not written (a forecast made
    chunk by chunk): they count towards the frequency cap as written ones would, and the
    messages this batch decides are added to it.
    """
    prices = PriceTable()
    alive: list[OutboundMessage] = []
    for message in messages:
        if message.status == Status.SKIPPED:
            continue  # decided by the caller
        address = policy.resolve_address(
            channel=message.channel, guest=message.guest, to=message.to
        )
        if isinstance(address, policy.Skip):
            _mark_skipped(message, address)
            continue
        message.to, message.country = address.to, address.country
        alive.append(message)

    free_text = [m.to for m in alive if m.channel == ContactChannel.WHATSAPP and not m.template_id]
    open_windows = policy.whatsapp_windows_open(free_text)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for message in alive:
        if message.guest_id:
            groups[(message.purpose, message.channel)].append(message.guest_id)
    blocked = {
        key: policy.consent_skips(ids, purpose=key[0], channel=key[1])
        for key, ids in groups.items()
    }
    suppressed = policy.suppressed_addresses(
        [m.to for m in alive if m.channel == ContactChannel.EMAIL]
    )
    refused = policy.analytics_refused(
        [m.guest_id for m in alive if m.guest_id and m.channel == ContactChannel.EMAIL]
    )
    marketing = [m.guest_id for m in alive if m.guest_id and m.purpose == ConsentPurpose.MARKETING]
    counts = policy.recent_marketing_counts(marketing, policy=house)
    if planned:
        for guest_id in set(marketing) & set(planned):
            counts[guest_id] = counts.get(guest_id, 0) + planned[guest_id]

    now = timezone.now()
    for message in alive:
        if (
            message.channel == ContactChannel.WHATSAPP
            and not message.template_id
            and message.to not in open_windows
        ):
            _mark_skipped(
                message,
                policy.Skip(
                    SkipReason.OUTSIDE_WINDOW,
                    Phrase(
                        gettext_noop(
                            "free text is only allowed within 24 hours of the guest's last "
                            "message; use a template"
                        )
                    ),
                ),
            )
            continue
        skip = blocked.get((message.purpose, message.channel), {}).get(message.guest_id or 0)
        if (
            skip is None
            and message.channel == ContactChannel.EMAIL
            and message.to.lower() in suppressed
            and message.source not in policy.ANSWER_SOURCES
        ):
            skip = policy.suppression_skip(message.to)
        if skip is None and message.purpose == ConsentPurpose.MARKETING and message.guest_id:
            skip = policy.frequency_skip(count=counts.get(message.guest_id, 0), policy=house)
            if skip is None and not _is_fallback(message):
                # Two in one batch count twice.
                counts[message.guest_id] = counts.get(message.guest_id, 0) + 1
                if planned is not None:
                    planned[message.guest_id] += 1
        if skip:
            _mark_skipped(message, skip)
            continue
        if message.channel == ContactChannel.SMS:
            info = count_segments(unsealed(message).body)  # parts of what goes, not of the mask
            message.segments, message.encoding = info.parts, info.encoding
        elif message.channel != ContactChannel.EMAIL:
            message.segments = 1
        message.credits = prices.cost(message.channel, message.country, message.segments)
        if message.channel == ContactChannel.EMAIL:
            # An SMS is tracked when its links were shortened (``_build``).
            message.tracked = policy.message_tracked(message, policy=house, refused=refused)
        quiet_until = policy.message_quiet_until(message, policy=house, at=now)
        if quiet_until is not None:
            message.not_before, message.hold = quiet_until, Hold.QUIET_HOURS
        message.status = Status.QUEUED


def _new_only(
    rows: list[OutboundMessage],
) -> tuple[list[OutboundMessage], dict[str, OutboundMessage]]:
    """Split ``rows`` into those whose dedupe key is new and the existing rows by key."""
    existing = {
        m.dedupe_key: m
        for m in OutboundMessage.objects.filter(dedupe_key__in=[r.dedupe_key for r in rows])
    }
    fresh, seen = [], set(existing)
    for row in rows:
        if row.dedupe_key not in seen:
            seen.add(row.dedupe_key)
            fresh.append(row)
    return fresh, existing


def _insert(rows: list[OutboundMessage]) -> list[OutboundMessage]:
    """Insert ``rows``; the unique dedupe key decides (R1). Return the rows actually inserted, in order.

    Two transactions inserting overlapping keys (a re-driven chunk while the original still
    runs) wait for each other on every shared key; both insert in key order, so the later one
    waits for the earlier to commit instead of deadlocking with it.
    """
    ordered = sorted(rows, key=lambda row: row.dedupe_key)
    try:
        with transaction.atomic():
            OutboundMessage.objects.bulk_create(ordered)
        return rows
    except IntegrityError:
        pass  # someone inserted some of these keys meanwhile: one by one, keeping the rest
    inserted = set()
    for row in ordered:
        row.pk = None
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            continue
        inserted.add(row.dedupe_key)
    return [row for row in rows if row.dedupe_key in inserted]


def _submit(
    rows: list[OutboundMessage], house: MessagingPolicy | None = None
) -> dict[str, OutboundMessage]:
    """Log, assess, reserve and queue new rows; return every row (new or existing) by dedupe key."""
    house = house or MessagingPolicy.load()
    fresh, existing = _new_only(rows)
    message_rows_assess(fresh, house)
    inserted = _insert(fresh)
    _short_links_insert(inserted)
    queued = [m for m in inserted if m.status == Status.QUEUED]
    reserved = credits_reserve_many(queued)
    short = [m for m in queued if m.pk not in reserved]
    if short:
        balance = available_credits()
        for message in short:
            _mark_skipped(
                message,
                # The label says "No credits"; the detail says by how much.
                policy.Skip(SkipReason.NO_CREDITS, shortfall_phrase(message.credits, balance)),
            )
        OutboundMessage.objects.bulk_update(
            short, ["status", "skip_reason", "reason", "detail", "finished_at"]
        )
    # A queued row speaks for itself (created_at); a skip is an event worth its own line.
    DeliveryEvent.objects.bulk_create(
        [
            delivery_event(
                m,
                m.status,
                source="queue",
                description=m.reason,
                detail=m.detail,
                code=m.skip_reason,
            )
            for m in inserted
            if m.status == Status.SKIPPED
        ]
    )
    for message in inserted:
        if message.status == Status.SKIPPED and message.skip_reason in FALLBACK_SKIPS:
            message_fall_back(message, reason=stored_phrase(message.detail, message.reason))
    messages_wipe_sealed([m for m in inserted if m.status == Status.SKIPPED])
    _dispatch_on_commit([m for m in inserted if m.status == Status.QUEUED])
    by_key = {**existing, **{m.dedupe_key: m for m in inserted}}
    # Keys another transaction committed after we looked (it won the insert): its rows.
    taken = [row.dedupe_key for row in fresh if row.dedupe_key not in by_key]
    if taken:
        by_key.update(
            (m.dedupe_key, m) for m in OutboundMessage.objects.filter(dedupe_key__in=taken)
        )
    return by_key


def _short_links_insert(messages: list[OutboundMessage]) -> None:
    """Write the short links of the rows just inserted (a row not inserted — its key was taken
    — drops its codes: they were never stored or sent). Skipped rows keep theirs: a message
    skipped for lack of credits goes later with the same text."""
    links = [
        ShortLink(code=code, message=message, url=url)
        for message in messages
        for code, url in (message.new_short_links or {}).items()
    ]
    if links:
        # A code taken already (a chance of live links / 8e17) fails the whole transaction: the
        # send is retried with new codes, never sent with a link that leads elsewhere.
        ShortLink.objects.bulk_create(links)
    for message in messages:
        message.new_short_links = None


def _dispatch_on_commit(messages: list[OutboundMessage]) -> None:
    """Hand the due messages to workers once the transaction commits, in chunks."""
    now = timezone.now()
    due = [m.pk for m in messages if not (m.not_before and m.not_before > now)]
    if not due:
        return  # the sweeper sends waiting messages when their time comes
    for start in range(0, len(due), DISPATCH_CHUNK):
        # A broker that cannot take the task is logged; the sweeper sends the row (R2).
        hand_off_on_commit("channels_out.deliver_messages", due[start : start + DISPATCH_CHUNK])


def sealed_needed_no_more() -> Q:
    """Messages whose full text can go: they will never be sent, resent or fall back again.

    A final status ends it — except a message skipped for lack of credits, which goes after
    the next top-up unless it has expired; a message accepted by the provider ends it too
    when no fallback step may follow. An unknown outcome keeps it for an operator's resend.
    """
    waits_for_credits = Q(status=Status.SKIPPED, skip_reason=SkipReason.NO_CREDITS) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    return (Q(status__in=FINAL_STATUSES) & ~waits_for_credits) | Q(
        status=Status.SENT, fallback_plan=[]
    )


def messages_wipe_sealed(messages: Sequence[OutboundMessage] | None = None) -> int:
    """Wipe the full text of ``messages`` (default: of every message) that no longer need it.

    Which ones do not is the rule of ``sealed_needed_no_more``. Instances in
    memory keep what they hold (a fallback is built from them after the status change).
    Returns how many were wiped.
    """
    rows = OutboundMessage.objects.exclude(sealed="").filter(sealed_needed_no_more())
    if messages is not None:
        ids = [m.pk for m in messages if m.sealed and m.pk]
        if not ids:
            return 0
        rows = rows.filter(pk__in=ids)
    return rows.update(sealed="")


def messages_dispatch_on_commit(messages: list[OutboundMessage]) -> None:
    """Hand the due ones of ``messages`` to workers once the transaction commits, in chunks."""
    _dispatch_on_commit(messages)


def dispatch_on_commit(message: OutboundMessage) -> None:
    """Hand one queued message to a worker once the transaction commits (now if it is due)."""
    _dispatch_on_commit([message])


def message_rows_build(
    requests: Sequence[MessageRequest], house: MessagingPolicy, accounts: AccountLookup
) -> list[OutboundMessage]:
    """Validate ``requests`` and build the unsaved log row of each one's first step, in order.

    Raise ValidationError for the first request that cannot be sent as written.
    """
    content_types: dict[type, ContentType] = {}
    rows: list[OutboundMessage] = []
    skips: list[policy.Skip | None] = []
    refused = policy.analytics_refused(
        [
            request.guest.pk
            for request in requests
            if request.guest is not None and any(step.shorten_links for step in request.steps)
        ]
    )
    for request in requests:
        plan = list(request.steps)
        if not plan:
            raise ValidationError("A message needs at least one channel.")
        if request.purpose not in (ConsentPurpose.SERVICE, ConsentPurpose.MARKETING):
            raise ValidationError(
                {"purpose": f"Unknown purpose “{request.purpose}”: use service or marketing."}
            )
        if request.guest is None and not plan[0].to:
            raise ValidationError(gettext("A message needs a guest or an address."))
        for header, value in request.headers.items():
            if "\n" in header + str(value) or "\r" in header + str(value):
                raise ValidationError({"headers": f"The header {header} contains a line break."})
            problem = unsendable("headers", f"{header}{value}")
            if problem:
                raise ValidationError({"headers": problem})
        if request.skip is None:
            language = request.language or (request.guest.language if request.guest else "")
            for step in plan:
                _validate_step(step, accounts, purpose=request.purpose, language=language)
        elif accounts.for_step(plan[0]) is None:
            raise ValidationError(
                {
                    "account": gettext("No active %(channel)s account is set up.")
                    % {"channel": ContactChannel(plan[0].channel).label}
                }
            )
        sms = not (request.automatic and not house.sms_notifications_enabled)
        expanded = _expand_plan(plan, house, accounts, sms=sms)
        # Nothing but SMS, switched off: the first step is logged as skipped, never dropped.
        skip = request.skip if expanded else request.skip or SMS_SWITCHED_OFF
        plan = expanded or plan[:1]
        origin = request.origin
        if origin is not None and type(origin) not in content_types:
            content_types[type(origin)] = ContentType.objects.get_for_model(origin)
        first = plan[0]
        account = accounts.for_step(first)
        assert account is not None  # _validate_step refused a step without one
        rows.append(
            _build(
                first,
                account,
                key=request.dedupe_key or f"adhoc:{uuid.uuid4().hex}",
                purpose=request.purpose,
                guest=request.guest,
                rest=plan[1:],
                common={
                    "reservation": request.reservation,
                    "facility_booking": request.facility_booking,
                    "origin_type": content_types[type(origin)] if origin is not None else None,
                    "origin_id": origin.pk if origin is not None else None,
                    "source": request.source,
                    "language": request.language,
                    "sent_by": acting_user(request.user),
                    "not_before": request.not_before,
                    "expires_at": request.expires_at,
                    "headers": dict(request.headers),
                },
                secrets=request.secrets,
                analytics_refused=request.guest is not None and request.guest.pk in refused,
            )
        )
        skips.append(skip)
    for skip, row in zip(skips, rows, strict=True):
        if skip is not None:
            _mark_skipped(row, skip)
            row.fallback_plan = []
    return rows


@transaction.atomic
def message_send_many(requests: Sequence[MessageRequest]) -> list[OutboundMessage]:
    """Queue many messages; return their log rows (the first step of each plan), in order.

    Each request is validated as ``message_send`` validates one, and a ValidationError for
    any of them writes nothing. Requests whose dedupe key exists return the existing row.
    """
    house = MessagingPolicy.load()
    rows = message_rows_build(requests, house, AccountLookup())
    by_key = _submit(rows, house)
    return [by_key[row.dedupe_key] for row in rows]


def message_send(
    *,
    steps: Step | Sequence[Step],
    purpose: str = ConsentPurpose.SERVICE,
    guest: Guest | None = None,
    reservation: Reservation | None = None,
    facility_booking: FacilityBooking | None = None,
    dedupe_key: str | None = None,
    origin: models.Model | None = None,
    source: str = "api",
    language: str = "",
    user: Actor = None,
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    headers: dict[str, str] | None = None,
    secrets: Sequence[str] = (),
) -> OutboundMessage:
    """Queue one message to one recipient and return its log row (the first step of the plan).

    ``steps`` is one Step or an ordered fallback plan (Viber with an SMS fallback account gets
    its SMS step added). The same ``dedupe_key`` never makes a second message: the existing
    row is returned. A message that may not go (no address, invalid number, no consent,
    greylisted, frequency cap, no credits …) is logged as skipped with its reason.

    ``secrets`` are the codes and link tokens in the content: the message goes with them, the
    send log keeps it with each masked (``text.seal``), so no staff member ever reads one.

    Raises ValidationError (and writes nothing) for input that cannot be sent as written:
    unknown channel or purpose, an account of another channel, a missing or oversize text,
    an address longer than the log holds, a subject or header with a line break, or any part
    holding a character no provider step can take (a control character, a lone surrogate;
    bodies keep line breaks and tabs), named by its code (``unsendable``).
    """
    request = MessageRequest(
        steps=[steps] if isinstance(steps, Step) else list(steps),
        purpose=purpose,
        guest=guest,
        reservation=reservation,
        facility_booking=facility_booking,
        dedupe_key=dedupe_key or "",
        origin=origin,
        source=source,
        language=language,
        user=user,
        not_before=not_before,
        expires_at=expires_at,
        headers=headers or {},
        secrets=tuple(secrets),
    )
    return message_send_many([request])[0]


def message_fall_back(message: OutboundMessage, *, reason: Phrase | str) -> OutboundMessage | None:
    """Queue the next step of ``message``'s plan, once; return it (or None at the end of the plan).

    The fallback row has its own dedupe key (``<key>|fallback``) and a one-to-one link to
    ``message``, so a retried callback or a late receipt can never make a second one (S3).
    """
    fallback = message_fallback_row(message, AccountLookup())
    if fallback is None:
        return None
    existed = OutboundMessage.objects.filter(dedupe_key=fallback.dedupe_key).exists()
    result = _submit([fallback])[fallback.dedupe_key]
    if not existed:
        said = Phrase(
            gettext_noop("falls back to %(channel)s: %(reason)s"),
            {"channel": str(result.get_channel_display()), "reason": reason},
        )
        delivery_event_record(
            message, message.status, source="fallback", applied=False, description=said
        )
    return result


def message_fallback_row(
    message: OutboundMessage, accounts: AccountLookup
) -> OutboundMessage | None:
    """Build (unsaved) the row of the next step of ``message``'s plan; None at the end of the plan."""
    if not message.fallback_plan:
        return None
    full = unsealed(message)  # the next step says what the first said, secrets and all
    step = Step.from_plan_item(full.fallback_plan[0])
    account = accounts.for_step(step)
    if account is None:
        return None
    fallback = _build(
        step,
        account,
        key=f"{message.dedupe_key}|fallback",
        purpose=message.purpose,
        guest=message.guest,
        rest=[Step.from_plan_item(item) for item in full.fallback_plan[1:]],
        common={
            "reservation_id": message.reservation_id,
            "facility_booking_id": message.facility_booking_id,
            "origin_type_id": message.origin_type_id,
            "origin_id": message.origin_id,
            "source": "fallback",
            "language": message.language,
            "sent_by_id": message.sent_by_id,
            "expires_at": message.expires_at,
            "headers": full.headers if step.channel == ContactChannel.EMAIL else {},
            "fallback_for": message,
        },
        secrets=sealed_secrets(message),
        analytics_refused=bool(
            step.shorten_links and message.guest_id and policy.analytics_refused([message.guest_id])
        ),
    )
    if (
        not fallback.to
        and message.guest is None
        and {step.channel, message.channel} <= policy.PHONE_CHANNELS
    ):
        fallback.to = message.to
    return fallback


def message_submit_copy(copy: OutboundMessage) -> OutboundMessage:
    """Log and queue an unsaved message row built elsewhere (an operator's resend); once per key."""
    return _submit([copy])[copy.dedupe_key]
