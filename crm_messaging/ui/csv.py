"""CSV downloads of staff screens — the one helper every export uses: cells safe from
spreadsheet formulas, times in the hotel's zone with the zone named in their column's header,
a UTF-8 byte-order mark so Excel reads Turkish and Cyrillic letters right, streamed rows."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Excel reads a CSV as UTF-8 only when it starts with the byte-order mark.
BOM = "\ufeff"


def csv_cell(value: Any) -> str:
    """Text for a spreadsheet cell; a leading formula character is defused (CSV injection);
    a date-time in the hotel's zone (name the zone in the header: ``csv_time_header``)."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_time_header(label: str, zone: str = "") -> str:
    """A time column's header naming its zone: "created (Europe/Istanbul)" (default: the
    hotel's zone, in which ``csv_cell`` writes times)."""
    return f"{label} ({zone or timezone.get_current_timezone_name()})"


def csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    """Stream ``rows`` (lists of already safe cells) as a CSV download named ``filename``,
    starting with the byte-order mark."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield BOM
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
