"""The send log as CSV for operators: the filtered rows, streamed, safe to open in a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views import View

from channels_out.models import OutboundMessage
from channels_out.selectors import with_credits
from crm_messaging.ui.csv import csv_cell, csv_response, csv_time_header
from crm_messaging.ui.screens import StaffView

from .log import filtered, with_campaign_name

CSV_COLUMNS: list[tuple[str, str]] = [
    ("id", "pk"),
    ("created", "created_at"),
    ("channel", "channel"),
    ("account", "account.name"),
    ("recipient", "to"),
    ("guest", "guest.full_name"),
    ("campaign", "campaign_name"),
    ("source", "source"),
    ("purpose", "purpose"),
    ("language", "language"),
    ("subject", "subject"),
    ("text", "body"),
    ("status", "status"),
    ("skip reason", "skip_reason"),
    ("reason", "reason"),
    ("provider code", "provider_code"),
    ("provider message id", "provider_message_id"),
    ("segments", "segments"),
    ("encoding", "encoding"),
    ("country", "country"),
    ("credits", "credits_spent"),
    ("credits held", "credits_held"),
    ("sent by", "sent_by.username"),
    ("sent at", "sent_at"),
    ("delivered at", "delivered_at"),
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
        csv_time_header(header) if path in TIME_COLUMNS else header for header, path in CSV_COLUMNS
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
