"""Exports for managers (P4, G6): newsletter contacts as CSV, one guest's consent history
(with the suppressions of his e-mail address, E2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views import View

from channels_out.selectors import suppressions_of
from crm_messaging.ui.csv import csv_cell, csv_response
from crm_messaging.ui.screens import StaffView
from guests.models import Guest

from .. import selectors

# The column names Mailchimp's CSV import maps without help (the first three), then ours.
NEWSLETTER_COLUMNS = [
    "Email Address",
    "First Name",
    "Last Name",
    "Language",
    "Country",
    "Consent Date",
]
HISTORY_COLUMNS = [
    "Guest ID",
    "Guest",
    "Recorded at",
    "Purpose",
    "Channel",
    "Granted",
    "Source",
    "Wording version",
    "Note",
    "Recorded by",
]


def _utc(moment: Any) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


class NewsletterExportView(StaffView, View):
    """Guests with marketing e-mail consent, as a CSV a newsletter tool imports directly."""

    permission_required = "portal.export_newsletter"

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        def rows() -> Iterator[list[str]]:
            yield NEWSLETTER_COLUMNS
            contacts = selectors.newsletter_rows().iterator(chunk_size=2000)
            for email, first_name, last_name, language, country, consent_at in contacts:
                yield [
                    email,
                    csv_cell(first_name),
                    csv_cell(last_name),
                    language,
                    country or "",
                    _utc(consent_at),
                ]

        return csv_response(rows(), f"newsletter-email-consent-{timezone.localdate():%Y-%m-%d}.csv")


class ConsentHistoryExportView(StaffView, View):
    """Every consent statement of one guest (a GDPR access request)."""

    permission_required = "portal.export_consent_history"

    def get(self, request: HttpRequest, guest_id: int) -> StreamingHttpResponse:
        guest = get_object_or_404(Guest, pk=guest_id)
        records = list(selectors.consent_history(guest))
        suppressions = list(suppressions_of(guest.email).order_by("created_at", "pk"))

        def rows() -> Iterator[list[str]]:
            yield HISTORY_COLUMNS
            for record in records:
                yield [
                    str(guest.pk),
                    csv_cell(guest.full_name),
                    _utc(record.recorded_at),
                    record.purpose,
                    record.channel,
                    "yes" if record.granted else "no",
                    record.source,
                    csv_cell(record.wording_version),
                    csv_cell(record.note),
                    csv_cell(record.recorded_by.get_username() if record.recorded_by else ""),
                ]
            # Suppressions of his address (E2): e-mail stopped by a bounce, then resumed.
            for suppression in suppressions:
                yield [
                    str(guest.pk),
                    csv_cell(guest.full_name),
                    _utc(suppression.created_at),
                    "email suppression",
                    "email",
                    "no",
                    suppression.reason,
                    "",
                    csv_cell(f"{suppression.address}: {suppression.description}".strip(": ")),
                    "",
                ]
                if suppression.cleared_at is not None:
                    yield [
                        str(guest.pk),
                        csv_cell(guest.full_name),
                        _utc(suppression.cleared_at),
                        "email suppression",
                        "email",
                        "yes",
                        "cleared",
                        "",
                        csv_cell(suppression.clear_reason_text),
                        csv_cell(
                            suppression.cleared_by.get_username() if suppression.cleared_by else ""
                        ),
                    ]

        return csv_response(rows(), f"consent-history-guest-{guest.pk}.csv")
