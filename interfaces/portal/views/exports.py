"""Exports for managers (P4, G6): newsletter contacts as CSV (Mailchimp's headings), one
guest's consent history (with the suppressions of his e-mail address, E2) in the staff
member's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.views import View

from channels_out.selectors import suppressions_of
from crm_messaging.ui.csv import csv_cell, csv_response
from crm_messaging.ui.screens import StaffView
from guests.models import ContactChannel, Guest

from .. import selectors

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The column names Mailchimp's CSV import maps without help (the first three), then ours.
NEWSLETTER_COLUMNS = [
    "Email Address",
    "First Name",
    "Last Name",
    "Language",
    "Country",
    "Consent Date",
]
# Headings in the reader's language, as the send log's (lazy: read when the file is made).
HISTORY_COLUMNS: list[StrOrPromise] = [
    pgettext_lazy("consent export heading", "Guest ID"),
    pgettext_lazy("consent export heading", "Guest"),
    pgettext_lazy("consent export heading", "Recorded at"),
    pgettext_lazy("consent export heading", "Purpose"),
    pgettext_lazy("consent export heading", "Channel"),
    pgettext_lazy("consent export heading", "Granted"),
    pgettext_lazy("consent export heading", "Source"),
    pgettext_lazy("consent export heading", "Wording version"),
    pgettext_lazy("consent export heading", "Note"),
    pgettext_lazy("consent export heading", "Recorded by"),
]


def _yes_no(granted: bool) -> str:
    return gettext("yes") if granted else gettext("no")


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

        # Made here, in the staff member's language: headings and labels (a small file).
        rows: list[list[str]] = [[str(heading) for heading in HISTORY_COLUMNS]]
        for record in records:
            rows.append(
                [
                    str(guest.pk),
                    csv_cell(guest.full_name),
                    _utc(record.recorded_at),
                    str(record.get_purpose_display()),
                    str(record.get_channel_display()),
                    _yes_no(record.granted),
                    csv_cell(record.get_source_display()),
                    csv_cell(record.wording_version),
                    csv_cell(record.note),
                    csv_cell(record.recorded_by.get_username() if record.recorded_by else ""),
                ]
            )
        # Suppressions of his address (E2): e-mail stopped by a bounce, then resumed.
        suppressed = str(gettext("E-mail suppression"))
        email = str(ContactChannel.EMAIL.label)
        for suppression in suppressions:
            rows.append(
                [
                    str(guest.pk),
                    csv_cell(guest.full_name),
                    _utc(suppression.created_at),
                    suppressed,
                    email,
                    _yes_no(False),
                    str(suppression.get_reason_display()),
                    "",
                    csv_cell(f"{suppression.address}: {suppression.description}".strip(": ")),
                    "",
                ]
            )
            if suppression.cleared_at is not None:
                rows.append(
                    [
                        str(guest.pk),
                        csv_cell(guest.full_name),
                        _utc(suppression.cleared_at),
                        suppressed,
                        email,
                        _yes_no(True),
                        pgettext("consent export", "cleared"),
                        "",
                        csv_cell(suppression.clear_reason_text),
                        csv_cell(
                            suppression.cleared_by.get_username() if suppression.cleared_by else ""
                        ),
                    ]
                )

        return csv_response(rows, f"consent-history-guest-{guest.pk}.csv")
