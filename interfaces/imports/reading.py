"""Reading an uploaded table (I3): CSV in any common encoding and delimiter, or XLSX.

The result is a header row and the data rows as strings, with the line number a person sees
in a spreadsheet (the header is line 1), so every report can point at the row to fix.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zipfile import BadZipFile

from charset_normalizer import from_bytes
from django.conf import settings
from django.utils.translation import gettext as _

# The Windows code page Excel writes CSV in, by the hotel's country (else cp1252).
_REGION_CODEPAGES = {
    "TR": "cp1254",
    "RU": "cp1251",
    "UA": "cp1251",
    "BG": "cp1251",
    "RS": "cp1251",
    "GR": "cp1253",
    "PL": "cp1250",
    "CZ": "cp1250",
    "SK": "cp1250",
    "HU": "cp1250",
    "HR": "cp1250",
    "SI": "cp1250",
}
_LATIN_PAGES = frozenset(
    {
        "cp1252",
        "cp1254",
        "cp1250",
        "latin_1",
        "iso8859_9",
        "iso8859_15",
        "iso8859_2",
        "cp850",
        "cp437",
        "mac_roman",
        "mac_latin2",
    }
)
# The delimiters hotels' exports use (Excel in Turkish or German locales writes ";").
DELIMITERS = ",;\t|"
MAX_COLUMNS = 200


class UnreadableFile(ValueError):
    """The upload is not a table we can read; the message says why, for staff."""


@dataclass
class Table:
    """A file's header and rows (strings, stripped); ``encoding``/``delimiter`` as detected."""

    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line number, cells)
    encoding: str = ""
    delimiter: str = ""

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Each row as {header: cell}; a short row reads as empty cells."""
        width = len(self.headers)
        for line, cells in self.rows:
            padded = cells + [""] * (width - len(cells))
            yield line, dict(zip(self.headers, padded[:width], strict=True))


def read_table(
    data: bytes, filename: str = "", *, encoding: str = "", delimiter: str = ""
) -> Table:
    """Read ``data`` as XLSX (by its name or its zip signature) or CSV; raise UnreadableFile.

    ``encoding`` and ``delimiter`` override the detection for CSV.
    """
    if not data:
        raise UnreadableFile(_("The file is empty."))
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if filename.lower().endswith(".xls"):
        raise UnreadableFile(
            _("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV.")
        )
    return _read_csv(data, encoding=encoding, delimiter=delimiter)


def _decode(data: bytes, encoding: str) -> tuple[str, str]:
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise UnreadableFile(
                _("The file cannot be read as %(encoding)s.") % {"encoding": encoding}
            ) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Excel's "CSV" is in the Windows code page of its locale. Detection tells the
    # scripts apart (Cyrillic, Greek, Latin) but not the Latin pages from each other on a
    # short file (ı in cp1254 is ý in cp1252): within Latin, the hotel's own page wins.
    best = from_bytes(data[:200_000]).best()
    if best is None:
        raise UnreadableFile(_("The file is not text: upload a CSV or XLSX file."))
    chosen = best.encoding
    if chosen in _LATIN_PAGES:
        chosen = _REGION_CODEPAGES.get(settings.HOTEL_DEFAULT_REGION, "cp1252")
    try:
        return data.decode(chosen), chosen
    except UnicodeDecodeError:
        return data.decode(best.encoding, errors="replace"), best.encoding


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # One column, or too irregular to tell: the delimiter that splits the header most.
        header = sample.split("\n", 1)[0]
        return max(DELIMITERS, key=header.count)


def _read_csv(data: bytes, *, encoding: str, delimiter: str) -> Table:
    text, used = _decode(data, encoding)
    if "\x00" in text:
        raise UnreadableFile(_("The file is not text: upload a CSV or XLSX file."))
    delimiter = delimiter or _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise UnreadableFile(_("The CSV file is malformed: %(error)s.") % {"error": exc}) from exc
    return _table(lines, encoding=used, delimiter=delimiter)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # A phone or id typed into a number cell: 905321234567.0 → "905321234567".
        return str(int(value)) if value.is_integer() else str(Decimal(str(value)))
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(_("The file is not a readable XLSX workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        lines = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    return _table(lines, encoding="", delimiter="")


def _table(lines: list[list[str]], *, encoding: str, delimiter: str) -> Table:
    numbered = [(n, [c.strip() for c in cells]) for n, cells in enumerate(lines, start=1)]
    # Blank lines (and the empty rows a spreadsheet keeps below its data) are no records.
    numbered = [(n, cells) for n, cells in numbered if any(cells)]
    if not numbered:
        raise UnreadableFile(_("The file has no header row."))
    headers = numbered[0][1]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise UnreadableFile(_("The file has more than %(n)s columns.") % {"n": MAX_COLUMNS})
    seen: set[str] = set()
    for index, name in enumerate(headers):
        if not name:
            raise UnreadableFile(
                _("Column %(n)s has no heading: every column needs a name in the first row.")
                % {"n": index + 1}
            )
        if name in seen:
            raise UnreadableFile(_("Two columns are called “%(name)s”.") % {"name": name})
        seen.add(name)
    return Table(headers=headers, rows=numbered[1:], encoding=encoding, delimiter=delimiter)
