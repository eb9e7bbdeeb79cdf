"""Operator sends, previews, cost estimates and approvals (C9–C11, C13).

An operator (or one-off) send is estimated first — recipients × SMS parts of their language
variant × the price of their destination country — against the available credits, and
refused with a clear message when short. A send above the hotel's cost or recipient
threshold waits for a second staff member with the approval permission (four-eyes).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext

from channels_out.ledger import available_credits, credits_text, shortfall_phrase
from channels_out.models import SkipReason
from channels_out.services import Outcome, SendForecast, message_send
from channels_out.text import SegmentInfo, count_segments, unsealed
from crm_messaging.actors import Actor, acting_user
from crm_messaging.i18n import Phrase, lower_label
from guests.models import ContactChannel, Guest

from ..audiences import audience
from ..models import Campaign, CampaignRun, CampaignSettings, Trigger
from ..occurrences import Occurrence
from ..rendering import RenderError, choose_variant, compile_variant, sample_context
from ..validation import campaign_validate
from .compose import Composed, Composer, message_step
from .runs import run_launch, run_open

ZERO = Decimal("0")
# A forecast reads the audience as a run sends it: a chunk at a time.
FORECAST_CHUNK = 500


@dataclass(frozen=True)
class VariantCost:
    """The queued messages of one channel and language: how many, their parts, their credits."""

    channel: str
    language: str
    recipients: int
    # Parts in all, as the sender stores them: an SMS's parts, 1 a Viber message, 0 an e-mail.
    segments: int
    encoding: str  # "GSM-7", "UCS-2", both, or "" (not SMS)
    credits: Decimal

    @property
    def channel_label(self) -> str:
        return str(ContactChannel(self.channel).label)


@dataclass
class Estimate:
    """What a send would queue and cost (C11), and who it would skip, by reason.

    Decided by the sender's own checks (``channels_out.services.SendForecast``) on the very
    messages the run would render, so ``recipients`` and ``credits`` are what the send then
    queues and reserves.
    """

    recipients: int = 0
    credits: Decimal = ZERO
    balance: Decimal = ZERO
    by_variant: list[VariantCost] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # SkipReason -> records
    already: int = 0  # records this occurrence has already messaged: nothing new for them
    waiting: int = 0  # queued, but held until the guest's quiet hours end

    @property
    def sufficient(self) -> bool:
        return self.credits <= self.balance

    @property
    def audience(self) -> int:
        """Every record looked at: those who would get it, be skipped, or already had it."""
        return self.recipients + self.skipped_total + self.already

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def skipped_by_reason(self) -> list[tuple[str, int]]:
        """The skips as staff read them: (reason in the reader's language, count), most first."""
        labels = dict(SkipReason.choices)
        return [
            (str(labels.get(reason, reason)), n)
            for reason, n in sorted(self.skipped.items(), key=lambda item: (-item[1], item[0]))
        ]

    @property
    def refusal_phrase(self) -> Phrase | None:
        """Why the balance is short, in no language, as a run keeps it (None when it is not)."""
        return None if self.sufficient else shortfall_phrase(self.credits, self.balance)

    @property
    def refusal(self) -> str:
        """``refusal_phrase`` in English (empty when the balance covers the cost)."""
        phrase = self.refusal_phrase
        return phrase.english() if phrase else ""

    @property
    def refusal_text(self) -> str:
        """``refusal`` in the reader's language, for the screens."""
        phrase = self.refusal_phrase
        return str(phrase) if phrase else ""


@dataclass(frozen=True)
class Forecasted:
    """One record's message as it would be queued (or skipped)."""

    composed: Composed
    outcome: Outcome


def forecast_records(
    campaign: Campaign,
    occurrence: Occurrence,
    records: QuerySet[Any],
    *,
    run: CampaignRun | None = None,
    user: Actor = None,
) -> Iterator[Forecasted]:
    """Compose each record's message as the run would and ask the sender what it would do with it.

    Records are read in the order a run reads them (by key), a chunk at a time, and nothing
    is written.
    """
    composer = Composer(campaign, occurrence, run=run, user=user)
    sender = SendForecast()
    ids = list(records.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), FORECAST_CHUNK):
        chunk = ids[start : start + FORECAST_CHUNK]
        batch = composer.compose_many(records.filter(pk__in=chunk).order_by("pk"))
        outcomes = sender.outcomes([item.request for item in batch])
        yield from (
            Forecasted(item, outcome) for item, outcome in zip(batch, outcomes, strict=True)
        )


def _selected(
    campaign: Campaign, occurrence: Occurrence, record_ids: Sequence[int] | None
) -> QuerySet[Any]:
    records = audience(campaign, occurrence)
    if record_ids is not None:
        records = records.filter(pk__in=list(record_ids))
    return records


def estimate(
    campaign: Campaign,
    occurrence: Occurrence,
    *,
    record_ids: Sequence[int] | None = None,
    run: CampaignRun | None = None,
) -> Estimate:
    """Count and price what a send would queue, with the skips by reason, against the balance.

    Every record's message is rendered and put through the sender's checks, so a recipient
    without an address, consent or room under the frequency cap is counted as skipped, a
    fallback step (Viber→SMS, WhatsApp→SMS …) is priced as the step that would go, and the
    parts (those the sender stores and charges: an SMS's parts, one Viber or WhatsApp message)
    and destination price are each message's own.
    """
    result = Estimate(balance=available_credits())
    lines: dict[tuple[str, str], list[Any]] = {}
    for item in forecast_records(
        campaign, occurrence, _selected(campaign, occurrence, record_ids), run=run
    ):
        outcome = item.outcome
        row = outcome.row
        if outcome.existing:
            result.already += 1
            continue
        if not outcome.queued:
            result.skipped[row.skip_reason] += 1
            continue
        result.recipients += 1
        result.credits += row.credits
        if row.not_before is not None:
            result.waiting += 1
        line = lines.setdefault((row.channel, row.language), [0, 0, set(), ZERO])
        line[0] += 1
        # The parts the sender stored on the row (``message_rows_assess``): an SMS's parts, one
        # for any other paid message (Viber, WhatsApp), none for e-mail — the row is charged by them.
        line[1] += row.segments
        if row.encoding:
            line[2].add(row.encoding)
        line[3] += row.credits
    for (channel, language), (n, parts, encodings, credits) in sorted(lines.items()):
        result.by_variant.append(
            VariantCost(channel, language, n, parts, "/".join(sorted(encodings)), credits)
        )
    return result


@dataclass(frozen=True)
class PreviewRow:
    """One recipient's message as the send would queue it, or why it would be skipped."""

    record_id: int
    guest: Guest
    channel: str
    address: str
    language: str
    subject: str
    text: str
    html: str
    segments: SegmentInfo | None
    error: str  # why this recipient would be skipped ("" when the message would be queued)
    waits_until: dt.datetime | None = None  # held for the guest's quiet hours

    @property
    def channel_label(self) -> str:
        return str(ContactChannel(self.channel).label) if self.channel else ""


@dataclass
class Preview:
    count: int  # recipients the send would queue a message for
    rows: list[PreviewRow]
    estimate: Estimate


def _preview_row(item: Forecasted) -> PreviewRow:
    composed, outcome = item.composed, item.outcome
    row = outcome.row
    error = ""
    if outcome.existing:
        error = gettext("already sent for this occurrence")
    elif not outcome.queued:
        error = row.skip_text
    rendered = composed.rendered
    queued = outcome.queued
    return PreviewRow(
        record_id=composed.record.pk,
        guest=composed.guest,
        channel=row.channel,
        address=row.to if queued else "",
        language=composed.variant.language if composed.variant is not None else "",
        subject=row.subject if rendered is not None else "",
        # The body as it would be logged: the opt-out hint of marketing SMS included.
        text=row.body if rendered is not None else "",
        html=row.html_body if rendered is not None else "",
        # Parts of what goes (the full text); the text shown is the send log's, secrets masked.
        segments=count_segments(unsealed(row).body)
        if queued and row.channel == ContactChannel.SMS
        else None,
        error=error,
        waits_until=row.not_before if queued else None,
    )


def preview(
    campaign: Campaign,
    occurrence: Occurrence | None = None,
    *,
    limit: int = 20,
    record_ids: Sequence[int] | None = None,
) -> Preview:
    """The audience at ``occurrence`` (default: now) with each recipient's message in his language (C9).

    Each row is the message the send would queue for that recipient — rendered with his
    links, through the plan's fallbacks, with the opt-out hint — or the reason he would be
    skipped; ``count`` counts those who would get it. Also the dry run: pass a past daily or
    hourly occurrence to see who would have received what. Sends nothing.
    """
    occurrence = occurrence or Occurrence.operator()
    records = _selected(campaign, occurrence, record_ids)
    shown = list(records.order_by("pk").values_list("pk", flat=True)[:limit])
    rows = [
        _preview_row(item)
        for item in forecast_records(campaign, occurrence, records.filter(pk__in=shown))
    ]
    cost = estimate(campaign, occurrence, record_ids=record_ids)
    return Preview(count=cost.recipients, rows=rows, estimate=cost)


def skipped_text(cost: Estimate) -> str:
    """The skips in one line, in the reader's language: "64 × No address for this channel, 81 × No consent"."""
    return ", ".join(f"{n} × {label}" for label, n in cost.skipped_by_reason)


def needs_approval(cost: Estimate) -> bool:
    """Whether a send of this estimate waits for a second member of staff (four-eyes)."""
    rules = CampaignSettings.load()
    return (
        cost.credits > rules.approval_cost_threshold
        or cost.recipients > rules.approval_recipient_threshold
    )


def campaign_send(
    *, campaign: Campaign, user: Actor, record_ids: Sequence[int] | None = None
) -> CampaignRun:
    """Send an operator campaign to everyone ("send to all") or to the chosen records ("send to selected").

    Raises ValidationError when the campaign is not an operator campaign, is invalid, nobody
    would get it (the skips by reason are named), or the balance cannot cover the estimate
    ("cost 30.6 credits, balance 0.4"); a refused attempt is kept as a run. Above the
    approval thresholds — counted on who would really get it — the run waits for a manager.
    """
    if campaign.trigger != Trigger.OPERATOR:
        raise ValidationError(
            gettext("Only an operator campaign is sent by hand; this one sends itself.")
        )
    if not campaign.is_active:
        raise ValidationError(gettext("The campaign is passive; activate it first."))
    campaign_validate(campaign)
    occurrence = Occurrence.operator(timezone.now())
    cost = estimate(campaign, occurrence, record_ids=record_ids)
    if cost.recipients == 0:
        if cost.skipped_total:
            raise ValidationError(
                gettext("Nobody would get this message: %(skipped)s.")
                % {"skipped": skipped_text(cost)}
            )
        raise ValidationError(gettext("Nobody is in the audience: there is no one to send to."))
    if not cost.sufficient:
        state = CampaignRun.State.REFUSED
    elif needs_approval(cost):
        state = CampaignRun.State.AWAITING_APPROVAL
    else:
        state = CampaignRun.State.RUNNING
    with transaction.atomic():
        run, _ = run_open(
            campaign,
            occurrence,
            trigger=Trigger.OPERATOR,
            user=user,
            record_ids=record_ids,
            state=state,
        )
        outcome: dict[str, Any] = {
            "estimated_cost": cost.credits,
            "estimated_recipients": cost.recipients,
            "audience_size": cost.audience,
        }
        if state == CampaignRun.State.REFUSED and cost.refusal_phrase:
            outcome.update(
                **CampaignRun.refusal_fields(cost.refusal_phrase), finished_at=timezone.now()
            )
        CampaignRun.objects.filter(pk=run.pk).update(**outcome)
        if state == CampaignRun.State.RUNNING:
            run_launch(run)
    if state == CampaignRun.State.REFUSED:
        # The refused attempt is kept as a run.
        raise ValidationError(gettext("Not sent: %(refusal)s.") % {"refusal": cost.refusal_text})
    run.refresh_from_db()
    return run


@dataclass(frozen=True)
class ApprovalSeen:
    """What the approver was shown of a waiting send; approving approves exactly this."""

    recipients: int
    credits: Decimal
    # The campaign's ``updated_at`` when it was shown (None: not shown, only the figures).
    version: dt.datetime | None = None

    @classmethod
    def of_run(cls, run: CampaignRun) -> ApprovalSeen:
        """The figures the run keeps, as the approvals and the admin's runs show them."""
        return cls(run.estimated_recipients, run.estimated_cost)


def run_changed_since_asked(run: CampaignRun) -> bool:
    """Whether the run's campaign was edited after the send was asked for (its estimate may be stale)."""
    return run.campaign.updated_at > run.started_at


def campaign_run_approve(
    *, run: CampaignRun, user: Actor, seen: ApprovalSeen | None = None
) -> CampaignRun:
    """A second staff member with the approval permission lets a large send go (four-eyes).

    The send is estimated again (``estimate``, as the run will send it) and goes only if that
    is what the approver was shown: ``seen`` (default: the figures the run keeps). When the
    recipients, the credits or the campaign (``seen.version``) changed, or the balance no
    longer covers it, nothing is sent, the run keeps waiting with the new estimate recorded
    (so every screen listing it shows what approving would now send) and ValidationError says
    so. Raises PermissionDenied for the requester himself or a user without the permission,
    and ValidationError when the run is not waiting.
    """
    with transaction.atomic():
        locked = CampaignRun.objects.select_for_update().select_related("campaign").get(pk=run.pk)
        approver = acting_user(user)
        if approver is None or not approver.has_perm("campaigns.approve_send"):
            raise PermissionDenied(gettext("Only a manager may approve a large send."))
        if approver.pk == locked.requested_by_id:
            raise PermissionDenied(
                gettext("A send cannot be approved by the person who asked for it.")
            )
        if locked.state != CampaignRun.State.AWAITING_APPROVAL:
            raise ValidationError(
                gettext("This send is %(state)s, not awaiting approval.")
                % {"state": lower_label(locked.get_state_display())}
            )
        shown = seen or ApprovalSeen.of_run(locked)
        cost = estimate(
            locked.campaign, Occurrence.operator(), record_ids=locked.selected_ids or None
        )
        figures = {
            "estimated_cost": cost.credits,
            "estimated_recipients": cost.recipients,
            "audience_size": cost.audience,
        }
        changed = (cost.recipients, cost.credits) != (shown.recipients, shown.credits) or (
            shown.version is not None and shown.version != locked.campaign.updated_at
        )
        if changed or not cost.sufficient:
            # Refused, yet kept waiting: the run now shows what approving would send.
            CampaignRun.objects.filter(pk=locked.pk).update(**figures)
        else:
            CampaignRun.objects.filter(pk=locked.pk).update(
                approved_by=approver, approved_at=timezone.now(), **figures
            )
            locked.refresh_from_db()
            return run_launch(locked)
    if changed:
        raise ValidationError(
            ngettext(
                "Not approved: the send changed since it was shown to you; it would now go to "
                "%(n)s recipient for %(credits)s credits. Look at it again, and approve it if "
                "that is right.",
                "Not approved: the send changed since it was shown to you; it would now go to "
                "%(n)s recipients for %(credits)s credits. Look at it again, and approve it if "
                "that is right.",
                cost.recipients,
            )
            % {"n": cost.recipients, "credits": credits_text(cost.credits)}
        )
    raise ValidationError(gettext("Not sent: %(refusal)s.") % {"refusal": cost.refusal_text})


@transaction.atomic
def campaign_run_reject(*, run: CampaignRun, user: Actor, reason: str = "") -> CampaignRun:
    """The approver turns a large send down; nothing is sent."""
    approver = acting_user(user)
    if approver is None or not approver.has_perm("campaigns.approve_send"):
        raise PermissionDenied(gettext("Only a manager may reject a large send."))
    updated = CampaignRun.objects.filter(
        pk=run.pk, state=CampaignRun.State.AWAITING_APPROVAL
    ).update(
        state=CampaignRun.State.REJECTED,
        **CampaignRun.refusal_fields(reason or Phrase(gettext_noop("rejected by the approver"))),
        finished_at=timezone.now(),
    )
    if not updated:
        raise ValidationError(gettext("This send is not awaiting approval."))
    run.refresh_from_db()
    return run


def campaign_test_send(
    *, campaign: Campaign, user: Actor, to: str, language: str = "", channel: str = ""
) -> Any:
    """Send the campaign's message, rendered for a sample guest, to a staff address or number (C9)."""
    step = next((s for s in campaign.plan_steps() if not channel or s.channel == channel), None)
    if step is None:
        raise ValidationError({"channel": gettext("The campaign has no step on that channel.")})
    variant = choose_variant(campaign.message_variants(), language or "")
    if variant is None:
        raise ValidationError(gettext("Write the message in at least one language first."))
    try:
        rendered = compile_variant(variant).render(sample_context(variant.language))
    except RenderError as exc:
        raise ValidationError(
            gettext("The message cannot be rendered: %(reason)s") % {"reason": exc.phrase}
        ) from exc
    return message_send(
        steps=message_step(
            step,
            variant,
            rendered,
            to=to,
            subject_prefix="[TEST] ",
            shorten_links=campaign.shorten_links,
        ),
        dedupe_key=f"test:{campaign.pk}:{uuid.uuid4().hex}",
        source="test",
        user=user,
        language=variant.language,
    )
