"""Signals the CRM core sends; other apps (campaigns) listen to them.

All are sent inside the transaction that made the change, so a receiver may write rows that
commit or roll back with it; receivers must only schedule work with ``transaction.on_commit``.
Every signal passes ``user`` (the staff member, or None for the system).
"""

from django.dispatch import Signal

# reservation=Reservation, user
reservation_created = Signal()
# reservation=Reservation, changes={field: [old, new]}, user
reservation_modified = Signal()
reservation_checked_in = Signal()
reservation_checked_out = Signal()
# reservation=Reservation, reason=str, user
reservation_cancelled = Signal()
reservation_no_show = Signal()
# audit=NightAudit (the closed day), business_date=date (the new one), user
night_audit_completed = Signal()
# facility_booking=FacilityBooking, user
facility_booking_created = Signal()
facility_booking_changed = Signal()
# source=Guest (about to be removed), target=Guest, user: sent before the rows pointing at
# source move to target, so an app whose rows allow one per guest can combine them first.
guests_merging = Signal()
# target=Guest (the survivor), merge=GuestMerge, user
guests_merged = Signal()
# record=ConsentRecord (a consent statement was appended), user
consent_recorded = Signal()
