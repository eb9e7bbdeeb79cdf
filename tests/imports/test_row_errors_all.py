"""A refused import row names every one of its problems, not the first (QA1 item 14): the
bad e-mail and the phone that cannot be read; an empty first name and the phone; read in
English or Turkish from the same stored words."""

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
    assert not Guest.objects.exists()


def test_the_row_reads_in_turkish_too() -> None:
    report = _report()
    with translation.override("tr"):
        bob = report.rows[0].text
    assert "Telefon: çok kısa" in bob and "geçerli bir e-posta adresi değil" in bob
