"""Models of the campaign engine, re-exported."""

from .campaign import (
    BASIC_FIELDS,
    CAMPAIGN_FIELDS,
    EVENT_TRIGGERS,
    FACILITY_FILTERS,
    GUEST_FILTERS,
    M2M_FILTERS,
    STAY_FILTERS,
    TRIGGER_FIELDS,
    AgeMode,
    BirthdayFilter,
    Campaign,
    CampaignSettings,
    CampaignStep,
    MessageVariant,
    Source,
    Timing,
    Trigger,
)
from .runs import CampaignRun, TriggerEvent

__all__ = [
    "BASIC_FIELDS",
    "CAMPAIGN_FIELDS",
    "EVENT_TRIGGERS",
    "FACILITY_FILTERS",
    "GUEST_FILTERS",
    "M2M_FILTERS",
    "STAY_FILTERS",
    "TRIGGER_FIELDS",
    "AgeMode",
    "BirthdayFilter",
    "Campaign",
    "CampaignRun",
    "CampaignSettings",
    "CampaignStep",
    "MessageVariant",
    "Source",
    "Timing",
    "Trigger",
    "TriggerEvent",
]
