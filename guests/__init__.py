"""The CRM core: guests, reservations, facility bookings, consent and greylist (SPEC §1)."""
