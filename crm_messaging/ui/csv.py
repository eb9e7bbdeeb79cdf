"""CSV downloads of staff screens: cells safe from spreadsheet formulas, streamed rows."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.http import StreamingHttpResponse

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """Text for a spreadsheet cell; a leading formula character is defused (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    """Stream ``rows`` (lists of already safe cells) as a CSV download named ``filename``."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
