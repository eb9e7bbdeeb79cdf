"""Exports for managers (P4, G6): newsletter contacts as CSV, one guest's consent history
(with the suppressions of his e-mail address, E2)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views import View

from channels_out.selectors import suppressions_of
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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """Text for a spreadsheet cell; a leading formula character is defused (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _utc(moment: Any) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
                    _cell(first_name),
                    _cell(last_name),
                    language,
                    country or "",
                    _utc(consent_at),
                ]

        return _csv_response(
            rows(), f"newsletter-email-consent-{timezone.localdate():%Y-%m-%d}.csv"
        )


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
                    _cell(guest.full_name),
                    _utc(record.recorded_at),
                    record.purpose,
                    record.channel,
                    "yes" if record.granted else "no",
                    record.source,
                    _cell(record.wording_version),
                    _cell(record.note),
                    _cell(record.recorded_by.get_username() if record.recorded_by else ""),
                ]
            # Suppressions of his address (E2): e-mail stopped by a bounce, then resumed.
            for suppression in suppressions:
                yield [
                    str(guest.pk),
                    _cell(guest.full_name),
                    _utc(suppression.created_at),
                    "email suppression",
                    "email",
                    "no",
                    suppression.reason,
                    "",
                    _cell(f"{suppression.address}: {suppression.description}".strip(": ")),
                    "",
                ]
                if suppression.cleared_at is not None:
                    yield [
                        str(guest.pk),
                        _cell(guest.full_name),
                        _utc(suppression.cleared_at),
                        "email suppression",
                        "email",
                        "yes",
                        "cleared",
                        "",
                        _cell(suppression.clear_reason),
                        _cell(
                            suppression.cleared_by.get_username() if suppression.cleared_by else ""
                        ),
                    ]

        return _csv_response(rows(), f"consent-history-guest-{guest.pk}.csv")
