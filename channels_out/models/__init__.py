"""Models of the sender layer, re-exported."""

from .accounts import ChannelAccount, EngagementTracking, sanitise_from_name
from .credits import CreditBalance, CreditOrder, LedgerEntry, MessagingPolicy, PriceRule
from .email import (
    Engagement,
    EngagementKind,
    SoftBounceRun,
    Suppression,
    SuppressionCleared,
    SuppressionReason,
)
from .links import ShortLink
from .mailboxes import ReplyMailbox
from .messages import (
    FINAL_STATUSES,
    STATUS_RANK,
    DeliveryEvent,
    Hold,
    InboundMessage,
    OutboundMessage,
    SkipReason,
    Status,
    statuses_below,
)

__all__ = [
    "FINAL_STATUSES",
    "STATUS_RANK",
    "ChannelAccount",
    "CreditBalance",
    "CreditOrder",
    "DeliveryEvent",
    "Engagement",
    "EngagementKind",
    "EngagementTracking",
    "Hold",
    "InboundMessage",
    "LedgerEntry",
    "MessagingPolicy",
    "OutboundMessage",
    "PriceRule",
    "ReplyMailbox",
    "SkipReason",
    "ShortLink",
    "SoftBounceRun",
    "Suppression",
    "SuppressionCleared",
    "SuppressionReason",
    "Status",
    "sanitise_from_name",
    "statuses_below",
]
