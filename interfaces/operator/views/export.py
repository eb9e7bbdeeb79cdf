"""The send log as CSV for operators: the filtered rows, streamed, safe to open in a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import pgettext_lazy
from django.views import View

from channels_out.models import OutboundMessage
from channels_out.selectors import with_credits
from crm_messaging.ui.csv import csv_cell, csv_response, csv_time_header
from crm_messaging.ui.screens import StaffView

from .log import filtered, with_campaign_name

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# Headings in the reader's language, as the analytics export's (lazy: read when the file is
# made); in English they are the words older exports had.
CSV_COLUMNS: list[tuple[StrOrPromise, str]] = [
    (pgettext_lazy("send log export heading", "id"), "pk"),
    (pgettext_lazy("send log export heading", "created"), "created_at"),
    (pgettext_lazy("send log export heading", "channel"), "channel"),
    (pgettext_lazy("send log export heading", "account"), "account.name"),
    (pgettext_lazy("send log export heading", "recipient"), "to"),
    (pgettext_lazy("send log export heading", "guest"), "guest.full_name"),
    (pgettext_lazy("send log export heading", "campaign"), "campaign_name"),
    (pgettext_lazy("send log export heading", "source"), "source"),
    (pgettext_lazy("send log export heading", "purpose"), "purpose"),
    (pgettext_lazy("send log export heading", "language"), "language"),
    (pgettext_lazy("send log export heading", "subject"), "subject"),
    (pgettext_lazy("send log export heading", "text"), "body"),
    (pgettext_lazy("send log export heading", "status"), "status"),
    (pgettext_lazy("send log export heading", "skip reason"), "skip_reason"),
    (pgettext_lazy("send log export heading", "reason"), "reason"),
    (pgettext_lazy("send log export heading", "provider code"), "provider_code"),
    (pgettext_lazy("send log export heading", "provider message id"), "provider_message_id"),
    (pgettext_lazy("send log export heading", "segments"), "segments"),
    (pgettext_lazy("send log export heading", "encoding"), "encoding"),
    (pgettext_lazy("send log export heading", "country"), "country"),
    (pgettext_lazy("send log export heading", "credits"), "credits_spent"),
    (pgettext_lazy("send log export heading", "credits held"), "credits_held"),
    (pgettext_lazy("send log export heading", "sent by"), "sent_by.username"),
    (pgettext_lazy("send log export heading", "sent at"), "sent_at"),
    (pgettext_lazy("send log export heading", "delivered at"), "delivered_at"),
]
TIME_COLUMNS = {"created_at", "sent_at", "delivered_at"}


def _value(message: OutboundMessage, path: str) -> object:
    value: object = message
    for part in path.split("."):
        value = getattr(value, part, None) if value is not None else None
    return value


def csv_rows(rows: Iterable[OutboundMessage]) -> Iterator[list[str]]:
    """The export, a row at a time: a header row (times name their zone), then one per message."""
    yield [
        csv_time_header(str(header)) if path in TIME_COLUMNS else str(header)
        for header, path in CSV_COLUMNS
    ]
    for message in rows:
        yield [csv_cell(_value(message, path)) for _, path in CSV_COLUMNS]


class MessageExportView(StaffView, View):
    """The filtered log as CSV, streamed (large logs never sit in memory); operators and managers."""

    permission_required = "channels_out.export_log"

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        _form, queryset = filtered(request)
        rows = with_credits(
            with_campaign_name(
                queryset.select_related("guest", "sent_by", "account").defer("html_body")
            )
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return csv_response(csv_rows(rows.iterator(chunk_size=2000)), f"sent-messages-{stamp}.csv")
