"""Changing campaign definitions: save (the editor), duplicate, activate, deactivate. Each
change is kept in the campaign's history with the staff member who made it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from channels_out.models import ChannelAccount
from crm_messaging.actors import Actor, acting_user, record_staff_action

from ..models import M2M_FILTERS, VARIANT_CONTENT, Campaign, CampaignStep, MessageVariant


@transaction.atomic
def campaign_save(
    *,
    campaign: Campaign | None = None,
    fields: Mapping[str, Any],
    steps: Sequence[tuple[str, ChannelAccount | None]] | None = None,
    variants: Mapping[str, Mapping[str, Any] | None] | None = None,
    user: Actor = None,
    where: str = "",
) -> Campaign:
    """Write a campaign with its delivery plan and its messages, all or nothing, and keep the
    change in its history with ``user``.

    ``campaign`` is the row to change (None: a new one, created by ``user``); ``fields`` are
    validated values of its fields (the many-to-many filters as lists of rows); ``steps`` the
    plan in order as (channel, account) — a changed plan is rewritten, an unchanged one left
    alone, None leaves it; ``variants`` map a language to its content (``VARIANT_CONTENT``)
    or to None to remove that language, an unchanged message is left alone. ``where`` names
    the screen for the history ("in the campaign editor"). Checking is the caller's: pass
    what a valid form cleaned (``campaigns.admin.forms`` refuses what ``campaign_validate``
    would).
    """
    adding = campaign is None or campaign.pk is None
    campaign = campaign if campaign is not None else Campaign()
    many = {name: value for name, value in fields.items() if name in M2M_FILTERS}
    for name, value in fields.items():
        if name not in many:
            setattr(campaign, name, value)
    if adding and campaign.created_by_id is None:
        campaign.created_by = acting_user(user)
    campaign.save()
    for name, objects in many.items():
        getattr(campaign, name).set(objects)
    if steps is not None:
        _write_plan(campaign, list(steps))
    if variants is not None:
        _write_variants(campaign, variants)
    done = "Created" if adding else "Changed"
    record_staff_action(user, campaign, f"{done} {where}.".replace(" .", "."), added=adding)
    return campaign


def _write_plan(campaign: Campaign, wanted: list[tuple[str, ChannelAccount | None]]) -> None:
    existing = [(step.channel, step.account) for step in campaign.steps.order_by("position", "pk")]
    if wanted == existing:
        return
    # Positions are unique per campaign: rewriting the short plan beats reshuffling it in place.
    campaign.steps.all().delete()
    CampaignStep.objects.bulk_create(
        CampaignStep(campaign=campaign, position=position, channel=channel, account=account)
        for position, (channel, account) in enumerate(wanted)
    )


def _write_variants(campaign: Campaign, wanted: Mapping[str, Mapping[str, Any] | None]) -> None:
    existing = {variant.language: variant for variant in campaign.variants.all()}
    for language, content in wanted.items():
        variant = existing.get(language)
        if content is None:
            if variant is not None:
                variant.delete()
            continue
        if variant is not None and all(
            getattr(variant, name) == value for name, value in content.items()
        ):
            continue
        variant = variant or MessageVariant(campaign=campaign, language=language)
        for name, value in content.items():
            setattr(variant, name, value)
        variant.save()


def campaign_duplicate(campaign: Campaign, *, user: Actor = None) -> Campaign:
    """Copy ``campaign`` with its filters, steps and variants, as a passive "… (copy)", kept
    in the copy's history with ``user``."""
    suffix = " (copy)"
    max_name = Campaign._meta.get_field("name").max_length or 120
    with transaction.atomic():
        original = Campaign.objects.get(pk=campaign.pk)  # a plain row: no list annotations
        chosen = {name: list(getattr(original, name).all()) for name in M2M_FILTERS}
        steps = list(original.steps.all())
        variants = list(original.variants.all())
        copy = original
        copy.pk = None
        copy._state.adding = True
        copy.name = original.name[: max_name - len(suffix)] + suffix
        copy.is_active = False
        copy.created_at = timezone.now()
        copy.created_by = acting_user(user)
        copy.save()
        for name, objs in chosen.items():
            getattr(copy, name).set(objs)
        CampaignStep.objects.bulk_create(
            CampaignStep(
                campaign=copy, position=s.position, channel=s.channel, account_id=s.account_id
            )
            for s in steps
        )
        MessageVariant.objects.bulk_create(
            MessageVariant(
                campaign=copy,
                language=v.language,
                **{name: getattr(v, name) for name in VARIANT_CONTENT},
            )
            for v in variants
        )
        record_staff_action(
            user, copy, f"Copied from “{campaign.name}” (#{campaign.pk}).", added=True
        )
    return copy


@transaction.atomic
def campaign_set_active(*, campaigns: Iterable[Campaign], active: bool, user: Actor = None) -> int:
    """Activate or deactivate campaigns (a queryset or a list), each change kept in the
    campaign's history with ``user``; return how many changed."""
    ids = [c.pk for c in campaigns]
    changing = list(
        Campaign.objects.select_for_update().filter(pk__in=ids).exclude(is_active=active)
    )
    Campaign.objects.filter(pk__in=[c.pk for c in changing]).update(
        is_active=active, updated_at=timezone.now()
    )
    for campaign in changing:
        record_staff_action(user, campaign, "Activated." if active else "Made passive.")
    return len(changing)
