"""The Django admin of the CRM core: guests, stays, consent, greylist and reference lists.

Every write goes through ``guests.services``: the forms here only collect and
check input so that a refusal appears next to the field it concerns, and a refusal only the
service can see (e.g. a concurrent change) rolls the whole save back and is shown as an
error message. Append-only and audit records are read-only. Importing this package
registers every admin class.
"""

from . import consent, facilities, guests, reference, reservations

__all__ = ["consent", "facilities", "guests", "reference", "reservations"]
