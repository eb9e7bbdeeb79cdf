"""The REST API's routes, mounted at /api/v1/ (the version is in the address)."""

from __future__ import annotations

from django.urls import path, re_path

from . import docs, message_views, upserts

app_name = "api"

# {source}:{external_id} — the source has no colon; the id may have one, never a slash. Any
# such pair reaches the view, so one that breaks the rules (an upper-case or empty source, an
# id too long) is the upsert service's 400 saying which rule, not a 404 "no such address".
KEY = r"(?P<source>[^/:]*):(?P<external_id>[^/]*)"

urlpatterns = [
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(url_name="api:schema"), name="docs"),
    path("guests/batch/", upserts.GuestBatchView.as_view(), name="guest-batch"),
    re_path(rf"^guests/{KEY}$", upserts.GuestUpsertView.as_view(), name="guest"),
    path("reservations/batch/", upserts.ReservationBatchView.as_view(), name="reservation-batch"),
    re_path(rf"^reservations/{KEY}$", upserts.ReservationUpsertView.as_view(), name="reservation"),
    path(
        "facility-bookings/batch/",
        upserts.FacilityBookingBatchView.as_view(),
        name="facility-booking-batch",
    ),
    re_path(
        rf"^facility-bookings/{KEY}$",
        upserts.FacilityBookingUpsertView.as_view(),
        name="facility-booking",
    ),
    path("messages/", message_views.MessagesView.as_view(), name="messages"),
    path("messages/<int:pk>", message_views.MessageDetailView.as_view(), name="message"),
    path("credits", message_views.CreditsView.as_view(), name="credits"),
    # Anything else under /api/v1/ is a problem-details 404, not an HTML page.
    re_path(r"^[\s\S]*$", docs.not_found, name="not-found"),  # line breaks too
]
