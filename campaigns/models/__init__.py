"""Models of the campaign engine, re-exported."""

from .campaign import (
    EVENT_TRIGGERS,
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
    "EVENT_TRIGGERS",
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
