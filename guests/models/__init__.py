"""Models of the CRM core, re-exported so callers import from ``guests.models``."""

from .consent import (
    AppendOnlyError,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    ConsentWording,
    ContactChannel,
    consent_channel_error,
    consent_source_error,
)
from .external import (
    EXTERNAL_ID_MAX_LENGTH,
    SOURCE_PATTERN,
    FacilityBookingExternalId,
    GuestExternalId,
    ReservationExternalId,
)
from .guest import (
    NOTE_MAX_LENGTH,
    PROFILE_FIELDS,
    GreylistEntry,
    Guest,
    GuestMerge,
    birth_date_error,
)
from .hotel import Hotel, NightAudit
from .reference import (
    Agency,
    BoardType,
    Facility,
    FacilityType,
    LoyaltyTier,
    MarketSegment,
    RoomType,
    SourceChannel,
    StayType,
)
from .reservation import (
    FacilityBooking,
    Reservation,
    ReservationCompanion,
    ReservationStatusChange,
    stay_errors,
)

__all__ = [
    "EXTERNAL_ID_MAX_LENGTH",
    "SOURCE_PATTERN",
    "FacilityBookingExternalId",
    "GuestExternalId",
    "ReservationExternalId",
    "NOTE_MAX_LENGTH",
    "PROFILE_FIELDS",
    "Agency",
    "AppendOnlyError",
    "BoardType",
    "ConsentPurpose",
    "ConsentRecord",
    "ConsentSource",
    "ConsentWording",
    "ContactChannel",
    "Facility",
    "FacilityBooking",
    "FacilityType",
    "GreylistEntry",
    "Guest",
    "GuestMerge",
    "Hotel",
    "LoyaltyTier",
    "MarketSegment",
    "NightAudit",
    "Reservation",
    "ReservationCompanion",
    "ReservationStatusChange",
    "RoomType",
    "SourceChannel",
    "StayType",
    "consent_channel_error",
    "birth_date_error",
    "consent_source_error",
    "stay_errors",
]
