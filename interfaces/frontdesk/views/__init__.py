"""Front-desk screens: reservations and guests (G1–G7, S4), re-exported for the URLs."""

from .booking import ReservationCreateView
from .guests import (
    GreylistLiftView,
    GuestConsentView,
    GuestDetailView,
    GuestEditView,
    GuestGreylistView,
    GuestHistoryView,
    GuestListView,
    GuestSendFormView,
    GuestSendView,
    SuppressionClearView,
)
from .merge import GuestMergeView
from .reservations import (
    ReservationCancelView,
    ReservationCheckInView,
    ReservationCheckOutView,
    ReservationDetailView,
    ReservationListView,
    ReservationMessagesView,
    ReservationNoShowView,
    ReservationNotificationsView,
    ReservationSendFormView,
    ReservationSendView,
)

__all__ = [
    "GreylistLiftView",
    "SuppressionClearView",
    "GuestConsentView",
    "GuestDetailView",
    "GuestEditView",
    "GuestGreylistView",
    "GuestHistoryView",
    "GuestListView",
    "GuestMergeView",
    "GuestSendFormView",
    "GuestSendView",
    "ReservationCancelView",
    "ReservationCheckInView",
    "ReservationCheckOutView",
    "ReservationCreateView",
    "ReservationDetailView",
    "ReservationListView",
    "ReservationMessagesView",
    "ReservationNoShowView",
    "ReservationNotificationsView",
    "ReservationSendFormView",
    "ReservationSendView",
]
