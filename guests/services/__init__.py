"""Every write of the CRM core; views, admin actions, commands and tasks call only these."""

from .external import (
    CREATED,
    UNCHANGED,
    UPDATED,
    external_key_check,
    facility_booking_upsert,
    guest_apply,
    guest_upsert,
    reservation_upsert,
)
from .facilities import (
    facility_booking_create,
    facility_booking_modify,
    facility_booking_set_status,
)
from .guests import (
    greylist_lift,
    guest_apply_changes,
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
    reservation_record_past,
    reservation_remove_companion,
)

__all__ = [
    "CREATED",
    "UNCHANGED",
    "UPDATED",
    "external_key_check",
    "facility_booking_modify",
    "facility_booking_upsert",
    "guest_apply",
    "guest_apply_changes",
    "guest_upsert",
    "reservation_record_past",
    "reservation_upsert",
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
