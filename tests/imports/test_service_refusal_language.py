"""A guest service's refusal during an import (an e-mail address it cannot take) is kept in the
row report in no language, like the import's own words: a Turkish colleague reads it in
Turkish, an English one in English."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm_messaging.ui.once import new_nonce
from interfaces.imports.models import ImportUpload

pytestmark = pytest.mark.django_db

CSV = "First name;Last name;E-mail\nAyşe;Yılmaz;ayse@@example\n".encode()


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
    mapping = {"first_name": "First name", "last_name": "Last name", "email": "E-mail"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:map", args=[upload.pk]), mapping)
    upload.refresh_from_db()
    assert upload.status == ImportUpload.Status.CHECKED
    return upload


def detail(client, upload: ImportUpload, language: str) -> str:
    client.cookies["django_language"] = language
    return client.get(reverse("imports:detail", args=[upload.pk])).content.decode()


def test_the_services_refusal_is_stored_as_a_phrase(checked) -> None:
    row = checked.dry_run["rows"][0]
    assert row["outcome"] == "error"
    assert row["reason"] == ""
    assert row["words"] == [
        {
            "msgid": "“%(email)s” is not a valid e-mail address.",
            "params": {"email": "ayse@@example"},
        }
    ]


def test_the_services_refusal_reads_in_turkish_for_a_turkish_colleague(client, checked) -> None:
    page = detail(client, checked, "tr")
    assert "“ayse@@example” geçerli bir e-posta adresi değil." in page
    assert "is not a valid e-mail address" not in page


def test_the_services_refusal_reads_in_english_for_an_english_reader(client, checked) -> None:
    page = detail(client, checked, "en")
    assert "“ayse@@example” is not a valid e-mail address." in page
    assert "geçerli bir e-posta adresi değil" not in page
