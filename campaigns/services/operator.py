"""Operator sends, previews, cost estimates and approvals (C9–C11, C13).

An operator (or one-off) send is estimated first — recipients × SMS parts of their language
variant × the price of their destination country — against the available credits, and
refused with a clear message when short. A send above the hotel's cost or recipient
threshold waits for a second staff member with the approval permission (four-eyes).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from channels_out.ledger import available_credits, shortfall
from channels_out.policy import PHONE_CHANNELS
from channels_out.pricing import PriceTable
from channels_out.segments import SegmentInfo, count_segments
from channels_out.services import message_send
from crm_messaging.actors import Actor, acting_user
from crm_messaging.i18n import lower_label
from crm_messaging.phones import InvalidPhone, phone_info
from guests.models import ContactChannel, Guest, Hotel

from ..audiences import audience, audience_guest_field
from ..models import Campaign, CampaignRun, CampaignSettings, Trigger
from ..occurrences import Occurrence
from ..rendering import RenderError, build_context, choose_variant, compile_variant, sample_context
from ..validation import campaign_validate
from .runs import message_step, record_context, record_parts, run_launch, run_open

ZERO = Decimal("0")


@dataclass(frozen=True)
class VariantCost:
    language: str
    recipients: int
    segments: int
    encoding: str
    credits: Decimal


@dataclass
class Estimate:
    """What a send would cost (C11)."""

    recipients: int = 0
    credits: Decimal = ZERO
    balance: Decimal = ZERO
    by_variant: list[VariantCost] = field(default_factory=list)

    @property
    def sufficient(self) -> bool:
        return self.credits <= self.balance

    @property
    def refusal(self) -> str:
        """Why the balance is short, as a run keeps it (empty when it is not)."""
        if self.sufficient:
            return ""
        return shortfall(self.credits, self.balance)

    @property
    def refusal_text(self) -> str:
        """``refusal`` in the reader's language, for the screens."""
        if self.sufficient:
            return ""
        return shortfall(self.credits, self.balance, for_reader=True)


def _first_step(campaign: Campaign) -> Any:
    return campaign.steps.select_related("account").first()


def _variant_segments(variant: Any, guest: Guest | None, hotel: Hotel) -> SegmentInfo:
    """The SMS parts of a language variant, rendered for a representative guest of that language."""
    context = (
        build_context(guest=guest, hotel=hotel, language=variant.language)
        if guest is not None
        else sample_context(variant.language)
    )
    try:
        text = compile_variant(variant).render(context).text
    except RenderError:
        text = variant.text
    return count_segments(text)


def estimate(
    campaign: Campaign, occurrence: Occurrence, *, record_ids: Sequence[int] | None = None
) -> Estimate:
    """Price a send: recipients grouped by language variant and destination country, against the balance."""
    result = Estimate(balance=available_credits())
    step = _first_step(campaign)
    if step is None:
        return result
    records = audience(campaign, occurrence)
    if record_ids is not None:
        records = records.filter(pk__in=list(record_ids))
    guest_field = audience_guest_field(campaign)
    prefix = f"{guest_field}__" if guest_field else ""
    rows = list(records.values_list(f"{prefix}pk", f"{prefix}language", f"{prefix}phone"))
    variants = list(campaign.variants.all())
    hotel = Hotel.load()
    prices = PriceTable()
    groups: dict[str, Counter[str]] = defaultdict(
        Counter
    )  # variant language -> country -> recipients
    first_guest_of: dict[str, int] = {}
    for guest_id, language, phone in rows:
        variant = choose_variant(variants, language)
        if variant is None:
            continue
        country = ""
        if step.channel in PHONE_CHANNELS and phone:
            try:
                country = phone_info(phone).region or ""
            except InvalidPhone:
                continue  # will be skipped as an invalid number: costs nothing
        groups[variant.language][country] += 1
        first_guest_of.setdefault(variant.language, guest_id)
    guests = Guest.objects.in_bulk(list(first_guest_of.values()))
    by_language = {v.language: v for v in variants}
    for language, countries in sorted(groups.items()):
        info = _variant_segments(by_language[language], guests.get(first_guest_of[language]), hotel)
        parts = info.parts if step.channel == ContactChannel.SMS else 1
        credits = sum(
            (prices.cost(step.channel, country, parts) * n for country, n in countries.items()),
            ZERO,
        )
        result.by_variant.append(
            VariantCost(language, sum(countries.values()), parts, info.encoding, credits)
        )
        result.recipients += sum(countries.values())
        result.credits += credits
    return result


def estimate_and_check(
    campaign: Campaign, occurrence: Occurrence, record_ids: Sequence[int] | None = None
) -> str:
    """Return why a send must be refused for lack of credits, or ""."""
    return estimate(campaign, occurrence, record_ids=record_ids).refusal


@dataclass(frozen=True)
class PreviewRow:
    record_id: int
    guest: Guest
    address: str
    language: str
    subject: str
    text: str
    html: str
    segments: SegmentInfo | None
    error: str


@dataclass
class Preview:
    count: int
    rows: list[PreviewRow]
    estimate: Estimate


def preview(
    campaign: Campaign,
    occurrence: Occurrence | None = None,
    *,
    limit: int = 20,
    record_ids: Sequence[int] | None = None,
) -> Preview:
    """The audience at ``occurrence`` (default: now) with each recipient's message in his language (C9).

    Also the dry run: pass a past daily or hourly occurrence to see who would have received what.
    Sends nothing.
    """
    occurrence = occurrence or Occurrence.operator()
    records = audience(campaign, occurrence)
    if record_ids is not None:
        records = records.filter(pk__in=list(record_ids))
    step = _first_step(campaign)
    variants = list(campaign.variants.all())
    hotel = Hotel.load()
    rows = []
    for record in records.order_by("pk")[:limit]:
        guest = record_parts(campaign, record)[0]
        variant = choose_variant(variants, guest.language)
        channel = step.channel if step else ContactChannel.SMS
        address = guest.email if channel == ContactChannel.EMAIL else guest.phone
        if variant is None:
            rows.append(
                PreviewRow(
                    record.pk, guest, address, "", "", "", "", None, "no message in any language"
                )
            )
            continue
        context = record_context(campaign, record, hotel=hotel, language=variant.language)
        try:
            rendered = compile_variant(variant).render(context)
        except RenderError as exc:
            rows.append(
                PreviewRow(record.pk, guest, address, variant.language, "", "", "", None, str(exc))
            )
            continue
        segments = count_segments(rendered.text) if channel == ContactChannel.SMS else None
        rows.append(
            PreviewRow(
                record.pk,
                guest,
                address,
                variant.language,
                rendered.subject,
                rendered.text,
                rendered.html,
                segments,
                "",
            )
        )
    return Preview(
        count=records.count(),
        rows=rows,
        estimate=estimate(campaign, occurrence, record_ids=record_ids),
    )


def _needs_approval(cost: Estimate) -> bool:
    rules = CampaignSettings.load()
    return (
        cost.credits > rules.approval_cost_threshold
        or cost.recipients > rules.approval_recipient_threshold
    )


def campaign_send(
    *, campaign: Campaign, user: Actor, record_ids: Sequence[int] | None = None
) -> CampaignRun:
    """Send an operator campaign to everyone ("send to all") or to the chosen records ("send to selected").

    Raises ValidationError when the campaign is not an operator campaign, is invalid, has
    nobody to send to, or the balance cannot cover the estimate ("cost 30.6 credits,
    balance 0.4"); a refused attempt is kept as a run. Above the approval thresholds the
    run waits for a manager instead of sending.
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
        raise ValidationError(gettext("Nobody is in the audience: there is no one to send to."))
    if not cost.sufficient:
        state = CampaignRun.State.REFUSED
    elif _needs_approval(cost):
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
            "audience_size": cost.recipients,
        }
        if state == CampaignRun.State.REFUSED:
            outcome.update(refusal=cost.refusal, finished_at=timezone.now())
        CampaignRun.objects.filter(pk=run.pk).update(**outcome)
        if state == CampaignRun.State.RUNNING:
            run_launch(run)
    if state == CampaignRun.State.REFUSED:
        # The refused attempt is kept as a run.
        raise ValidationError(gettext("Not sent: %(refusal)s.") % {"refusal": cost.refusal_text})
    run.refresh_from_db()
    return run


@transaction.atomic
def campaign_run_approve(*, run: CampaignRun, user: Actor) -> CampaignRun:
    """A second staff member with the approval permission lets a large send go (four-eyes).

    Raises PermissionDenied for the requester himself or a user without the permission, and
    ValidationError when the run is not waiting or the balance no longer covers it.
    """
    locked = CampaignRun.objects.select_for_update().select_related("campaign").get(pk=run.pk)
    approver = acting_user(user)
    if approver is None or not approver.has_perm("campaigns.approve_send"):
        raise PermissionDenied(gettext("Only a manager may approve a large send."))
    if approver.pk == locked.requested_by_id:
        raise PermissionDenied(gettext("A send cannot be approved by the person who asked for it."))
    if locked.state != CampaignRun.State.AWAITING_APPROVAL:
        raise ValidationError(
            gettext("This send is %(state)s, not awaiting approval.")
            % {"state": lower_label(locked.get_state_display())}
        )
    cost = estimate(locked.campaign, Occurrence.operator(), record_ids=locked.selected_ids or None)
    if not cost.sufficient:
        raise ValidationError(gettext("Not sent: %(refusal)s.") % {"refusal": cost.refusal_text})
    CampaignRun.objects.filter(pk=locked.pk).update(
        approved_by=approver, approved_at=timezone.now()
    )
    locked.refresh_from_db()
    return run_launch(locked)


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
        refusal=(reason or "rejected by the approver")[:255],
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
    step = (
        campaign.steps.select_related("account")
        .filter(**({"channel": channel} if channel else {}))
        .first()
    )
    if step is None:
        raise ValidationError({"channel": gettext("The campaign has no step on that channel.")})
    variant = choose_variant(list(campaign.variants.all()), language or "")
    if variant is None:
        raise ValidationError(gettext("Write the message in at least one language first."))
    try:
        rendered = compile_variant(variant).render(sample_context(variant.language))
    except RenderError as exc:
        raise ValidationError(
            gettext("The message cannot be rendered: %(reason)s") % {"reason": exc}
        ) from exc
    return message_send(
        steps=message_step(step, variant, rendered, to=to, subject_prefix="[TEST] "),
        dedupe_key=f"test:{campaign.pk}:{uuid.uuid4().hex}",
        source="test",
        user=user,
        language=variant.language,
    )
