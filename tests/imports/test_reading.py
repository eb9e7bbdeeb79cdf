"""Reading uploads (I3): CSV in the encodings and delimiters hotel software writes, XLSX,
and a clear refusal for what is no table."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from interfaces.imports.fields import suggest_mapping
from interfaces.imports.reading import UnreadableFile, read_table


def test_it_reads_a_turkish_excel_csv_in_cp1254_with_semicolons() -> None:
    text = "Adı;Soyadı;Cep Telefonu;E-posta\nŞükrü;Öztürk;0532 123 45 67;sukru@example.com\n"

    table = read_table(text.encode("cp1254"), "misafirler.csv")

    assert table.delimiter == ";"
    assert table.headers == ["Adı", "Soyadı", "Cep Telefonu", "E-posta"]
    assert list(table.records()) == [
        (
            2,
            {
                "Adı": "Şükrü",
                "Soyadı": "Öztürk",
                "Cep Telefonu": "0532 123 45 67",
                "E-posta": "sukru@example.com",
            },
        )
    ]


def test_it_reads_utf8_with_a_byte_order_mark_and_tabs() -> None:
    data = "\ufefffirst name\tlast name\nAnna\tIvanova\n".encode()

    table = read_table(data, "guests.tsv")

    assert table.encoding == "utf-8-sig" and table.delimiter == "\t"
    assert table.headers == ["first name", "last name"]


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file() -> None:
    table = read_table(b"first_name,email\n\nAnna,a@example.com\n,\nBob,b@example.com\n")

    assert [line for line, _cells in table.rows] == [3, 5]


def test_it_reads_the_first_sheet_of_an_xlsx_workbook() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["First name", "Phone", "Arrival"])
    sheet.append(["Hans", 4915112345678, dt.datetime(2026, 7, 1)])
    buffer = io.BytesIO()
    book.save(buffer)

    table = read_table(buffer.getvalue(), "export.xlsx")

    assert list(table.records()) == [
        (2, {"First name": "Hans", "Phone": "4915112345678", "Arrival": "2026-07-01"})
    ]


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"", "x.csv", "empty"),
        (b"\x00\x01\x02garbage", "x.csv", "not text"),
        (b"PK\x03\x04not really a zip", "x.xlsx", "not a readable XLSX"),
        (b"whatever", "old.xls", ".xls"),
        (b"name,,email\nA,,a@x.com\n", "x.csv", "Column 2 has no heading"),
        (b"email,email\na,b\n", "x.csv", "Two columns"),
    ],
)
def test_what_is_no_table_is_refused_with_the_reason(data: bytes, name: str, says: str) -> None:
    with pytest.raises(UnreadableFile) as caught:
        read_table(data, name)
    assert says in str(caught.value)


def test_headings_suggest_the_fields_they_name() -> None:
    headers = [
        "Adı",
        "Soyadı",
        "Cep Telefonu",
        "E-posta",
        "Giriş Tarihi",
        "Çıkış Tarihi",
        "Rezervasyon No",
        "Misc",
    ]

    assert suggest_mapping(headers, "reservations") == {
        "first_name": "Adı",
        "last_name": "Soyadı",
        "phone": "Cep Telefonu",
        "email": "E-posta",
        "arrival": "Giriş Tarihi",
        "departure": "Çıkış Tarihi",
        "reservation_id": "Rezervasyon No",
    }


def test_a_cyrillic_file_is_read_as_cyrillic_whatever_the_hotels_country() -> None:
    text = "Имя;Фамилия;Телефон\nИван;Петров;+79161234567\nОльга;Смирнова;+79161234568\n"

    table = read_table(text.encode("cp1251"), "guests.csv")

    assert table.headers == ["Имя", "Фамилия", "Телефон"]
    assert table.rows[0][1][:2] == ["Иван", "Петров"]
