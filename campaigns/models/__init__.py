"""Models of the campaign engine, re-exported."""

from .attribution import BookingAttribution
from .campaign import (
    BASIC_FIELDS,
    CAMPAIGN_FIELDS,
    FACILITY_FILTERS,
    GUEST_FILTERS,
    M2M_FILTERS,
    STAY_FILTERS,
    TRIGGER_FIELDS,
    VARIANT_CONTENT,
    Campaign,
    CampaignStep,
    MessageVariant,
)
from .choices import (
    EVENT_TRIGGERS,
    FACILITY_EVENTS,
    RESERVATION_EVENTS,
    STAY_CHANGE_FIELDS,
    AgeMode,
    BirthdayFilter,
    Recipients,
    Source,
    StayChange,
    Timing,
    Trigger,
    timing_text,
)
from .runs import CampaignRun, TriggerEvent
from .settings import CampaignSettings

__all__ = [
    "timing_text",
    "BookingAttribution",
    "BASIC_FIELDS",
    "CAMPAIGN_FIELDS",
    "EVENT_TRIGGERS",
    "FACILITY_EVENTS",
    "FACILITY_FILTERS",
    "GUEST_FILTERS",
    "M2M_FILTERS",
    "RESERVATION_EVENTS",
    "STAY_CHANGE_FIELDS",
    "STAY_FILTERS",
    "TRIGGER_FIELDS",
    "VARIANT_CONTENT",
    "AgeMode",
    "BirthdayFilter",
    "Campaign",
    "CampaignRun",
    "CampaignSettings",
    "CampaignStep",
    "MessageVariant",
    "Recipients",
    "Source",
    "StayChange",
    "Timing",
    "Trigger",
    "TriggerEvent",
]
