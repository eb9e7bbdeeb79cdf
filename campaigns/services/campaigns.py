"""Changing campaign definitions: duplicate, activate, deactivate."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from crm_messaging.actors import Actor, acting_user

from ..models import M2M_FILTERS, Campaign, CampaignStep, MessageVariant


def campaign_duplicate(campaign: Campaign, *, user: Actor = None) -> Campaign:
    """Copy ``campaign`` with its filters, steps and variants, as a passive "… (copy)"."""
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
                subject=v.subject,
                html=v.html,
                text=v.text,
                whatsapp_content_sid=v.whatsapp_content_sid,
                whatsapp_variables=v.whatsapp_variables,
                note=v.note,
            )
            for v in variants
        )
    return copy


def campaign_set_active(*, campaigns: Iterable[Campaign], active: bool) -> int:
    """Activate or deactivate campaigns (a queryset or a list); return how many changed."""
    ids = [c.pk for c in campaigns]
    return (
        Campaign.objects.filter(pk__in=ids)
        .exclude(is_active=active)
        .update(is_active=active, updated_at=timezone.now())
    )
