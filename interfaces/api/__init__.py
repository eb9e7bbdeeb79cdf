"""The REST API (I1) at /api/v1/: scoped keys per integration, idempotent upserts keyed by the
PMS's own ids, one-off messages, their statuses and the credit balance."""
