"""Writes of the staff shell: the CRM settings, one screen over three apps' house rules.

The values live in three single-row models owned by three apps: ``MessagingPolicy``
(sender layer), ``Hotel`` (CRM core) and ``CampaignSettings`` (campaign engine); the staff
shell is the one layer that sees all three, so the service that writes them together is here.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from campaigns.models import CampaignSettings
from channels_out.models import MessagingPolicy
from channels_out.services import messages_retime_quiet_hours
from crm_messaging.actors import Actor, record_staff_action
from guests.models import Hotel

# The settings form's fields, by the row that keeps them.
POLICY_FIELDS = (
    "sms_notifications_enabled",
    "viber_first",
    "quiet_start_service",
    "quiet_end_service",
    "quiet_start_marketing",
    "quiet_end_marketing",
    "frequency_cap_count",
    "frequency_cap_days",
    "low_balance_threshold",
    "credits_per_eur",
)
HOTEL_FIELDS = ("send_notifications_default",)
CAMPAIGN_FIELDS = (
    "approval_cost_threshold",
    "approval_recipient_threshold",
    "daily_fallback_time",
    "arrival_time",
    "survey_url",
)


def _apply(row: models.Model, values: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    changed = [name for name in names if getattr(row, name) != values[name]]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save(update_fields=changed)
    return changed


@transaction.atomic
def settings_save(*, values: dict[str, Any], user: Actor) -> list[str]:
    """Write the CRM settings to the messaging policy, the hotel and the campaign settings, and
    record who changed what in the admin history. Returns the names of the changed fields.

    ``values`` are a valid ``SettingsForm``'s cleaned data; the rows are locked while written.
    """
    changed: list[str] = []
    for model, names in (
        (MessagingPolicy, POLICY_FIELDS),
        (Hotel, HOTEL_FIELDS),
        (CampaignSettings, CAMPAIGN_FIELDS),
    ):
        model.load()  # make sure the single row exists before locking it
        row = model._default_manager.select_for_update().get(pk=1)
        fields = _apply(row, values, names)
        if fields:
            labels = [str(getattr(row._meta.get_field(f), "verbose_name", f)) for f in fields]
            record_staff_action(user, row, [{"changed": {"fields": labels}}])
        changed += fields
    if any(name.startswith("quiet_") for name in changed):
        messages_retime_quiet_hours()  # waiting messages follow the new hours
    return changed
