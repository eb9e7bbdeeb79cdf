"""An import's row report (I3) is stored in no language: a dry run made by an English-speaking
manager reads in Turkish for a Turkish colleague and in English for him; a report stored by an
older version (words only) is still shown as it was stored."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm_messaging.ui.once import new_nonce
from interfaces.imports.models import ImportUpload

pytestmark = pytest.mark.django_db

CSV = (
    "First name;Last name;Birth date;Phone\n;Yılmaz;;\nBora;Demir;31.02.1990;\nCem;Kaya;;+90 12\n"
).encode()


@pytest.fixture
def checked(login, client, django_capture_on_commit_callbacks) -> ImportUpload:
    login("Manager")
    client.cookies["django_language"] = "en"
    client.post(
        reverse("imports:start"),
        {
            "file": SimpleUploadedFile("guests.csv", CSV),
            "kind": "guests",
            "source": "Opera",
            "nonce": new_nonce(),
        },
    )
    upload = ImportUpload.objects.get()
    mapping = {
        "first_name": "First name",
        "last_name": "Last name",
        "birth_date": "Birth date",
        "phone": "Phone",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:map", args=[upload.pk]), mapping)
    upload.refresh_from_db()
    assert upload.status == ImportUpload.Status.CHECKED
    return upload


def detail(client, upload: ImportUpload, language: str) -> str:
    client.cookies["django_language"] = language
    return client.get(reverse("imports:detail", args=[upload.pk])).content.decode()


def test_the_dry_run_reads_in_turkish_for_a_turkish_colleague(client, checked) -> None:
    page = detail(client, checked, "tr")
    assert "Ad boş." in page
    assert "Doğum tarihi: “31.02.1990” bir tarih değil (2026-07-01 veya 01.07.2026 yazın)" in page
    assert "Telefon verildiği gibi saklandı, hiç aranmaz: çok kısa" in page
    for english in ("The first name is empty.", "is not a date", "kept as given", "too short"):
        assert english not in page


def test_the_dry_run_reads_in_english_for_an_english_reader(client, checked) -> None:
    page = detail(client, checked, "en")
    assert "The first name is empty." in page
    assert "Birth date: “31.02.1990” is not a date (use 2026-07-01 or 01.07.2026)" in page
    assert "Phone kept as given, never dialled: it is too short" in page
    assert "Ad boş." not in page


def test_the_report_stores_no_words_of_any_language(checked) -> None:
    rows = checked.dry_run["rows"]
    assert rows[0]["reason"] == ""
    assert rows[0]["words"] == [{"msgid": "The first name is empty."}]


def test_a_report_an_older_version_stored_is_shown_as_stored(client, checked) -> None:
    checked.dry_run = {
        "kind": "guests",
        "dry_run": True,
        "rows": [
            {"line": 2, "outcome": "error", "label": "", "reason": "The first name is empty."}
        ],
    }
    checked.save(update_fields=["dry_run"])
    assert "The first name is empty." in detail(client, checked, "tr")
