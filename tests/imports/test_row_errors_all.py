"""A refused import row names every one of its problems, not the first (QA1 item 14): the
bad e-mail and the phone that cannot be read — and beside an empty first name or a date that
is no date, the e-mail the guest services would refuse; read in English or Turkish from the
same stored words."""

from __future__ import annotations

import pytest
from django.utils import translation

from guests.models import Guest
from interfaces.imports.services import import_file

pytestmark = pytest.mark.django_db

CSV = "First name,Last name,Phone,E-mail\nBob,,+44 12,notanemail\n,,+44 12,notanemail\n"


def _report():
    return import_file(data=CSV.encode(), filename="guests.csv", kind="guests", source="Opera")


def test_a_refused_row_names_the_bad_email_and_the_bad_phone() -> None:
    with translation.override("en"):
        report = _report()
        bob, nameless = (row.text for row in report.rows)
    assert [row.outcome for row in report.rows] == ["error", "error"]
    assert "“notanemail” is not a valid e-mail address" in bob
    assert "Phone: it is too short" in bob
    assert "kept as given" not in bob  # the row is not imported: nothing is kept
    assert "The first name is empty." in nameless and "Phone: it is too short" in nameless
    assert "“notanemail” is not a valid e-mail address" in nameless
    assert nameless.count("first name") + nameless.count("First name") == 1  # said once
    assert not Guest.objects.exists()


def test_the_row_reads_in_turkish_too() -> None:
    report = _report()
    with translation.override("tr"):
        bob = report.rows[0].text
    assert "Telefon: çok kısa" in bob and "geçerli bir e-posta adresi değil" in bob


def test_a_bad_cell_and_a_bad_email_are_reported_together() -> None:
    data = b"First name,Birth date,E-mail\nCem,31.02.1990,cem@\n"
    report = import_file(data=data, filename="g.csv", kind="guests", source="Opera")
    with translation.override("en"):
        [row] = [r.text for r in report.rows]
    assert "Birth date: “31.02.1990” is not a date" in row
    assert "“cem@” is not a valid e-mail address" in row
    assert not Guest.objects.exists()
