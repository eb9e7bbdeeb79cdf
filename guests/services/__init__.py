"""Every write of the CRM core; views, admin actions, commands and tasks call only these."""

from .facilities import facility_booking_create, facility_booking_set_status
from .guests import (
    greylist_lift,
    guest_create,
    guest_greylist,
    guest_record_consent,
    guest_recount_stays,
    guest_update,
)
from .merge import guest_confirm_contact, guest_merge
from .night_audit import NightAuditError, night_audit_run
from .reservations import (
    TransitionError,
    reservation_add_companion,
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_create,
    reservation_mark_no_show,
    reservation_modify,
    reservation_remove_companion,
)

__all__ = [
    "NightAuditError",
    "TransitionError",
    "facility_booking_create",
    "facility_booking_set_status",
    "greylist_lift",
    "guest_confirm_contact",
    "guest_create",
    "guest_greylist",
    "guest_merge",
    "guest_recount_stays",
    "guest_record_consent",
    "guest_update",
    "night_audit_run",
    "reservation_add_companion",
    "reservation_remove_companion",
    "reservation_cancel",
    "reservation_check_in",
    "reservation_check_out",
    "reservation_create",
    "reservation_mark_no_show",
    "reservation_modify",
]
