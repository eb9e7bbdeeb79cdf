"""The import screen's whole way (I3): upload, map, the dry run's table, the confirming POST —
which imports exactly the checked file once — and the progress poll."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm_messaging.ui.once import new_nonce
from guests.models import Guest
from interfaces.imports.models import ImportPreset, ImportUpload

pytestmark = pytest.mark.django_db

CSV = (
    "Adı;Soyadı;E-posta;Telefon;SMS izni\n"
    "Ayşe;Yılmaz;ayse@example.com;0532 123 45 67;evet\n"
    "Bora;Demir;not-an-address;;\n"
).encode("cp1254")


@pytest.fixture
def checked(login, client, django_capture_on_commit_callbacks) -> ImportUpload:
    login("Front desk")
    client.post(
        reverse("imports:start"),
        {
            "file": SimpleUploadedFile("misafir.csv", CSV),
            "kind": "guests",
            "source": "Elektraweb",
            "nonce": new_nonce(),
        },
    )
    upload = ImportUpload.objects.get()
    mapping = {
        "first_name": "Adı",
        "last_name": "Soyadı",
        "email": "E-posta",
        "phone": "Telefon",
        "consent_marketing_sms": "SMS izni",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:map", args=[upload.pk]), mapping)
    assert response.url == reverse("imports:detail", args=[upload.pk])
    upload.refresh_from_db()
    return upload


def test_the_dry_run_shows_each_row_and_writes_nothing(client, checked) -> None:
    page = client.get(reverse("imports:detail", args=[checked.pk]))

    html = page.content.decode()
    assert checked.status == ImportUpload.Status.CHECKED
    assert page.context["report"].counts == {"created": 1, "updated": 0, "unchanged": 0, "error": 1}
    assert "not-an-address" in html and "Ayşe Yılmaz" in html
    assert Guest.objects.count() == 0
    assert (
        ImportPreset.objects.get(source="elektraweb", kind="guests").mapping["email"] == "E-posta"
    )


def test_confirming_imports_the_checked_file_once(
    client, checked, django_capture_on_commit_callbacks
) -> None:
    apply = reverse("imports:apply", args=[checked.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(apply)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(apply, follow=True)

    checked.refresh_from_db()
    assert checked.status == ImportUpload.Status.APPLIED
    assert checked.result["rows"][0]["outcome"] == "created"
    assert Guest.objects.get().phone == "+905321234567"
    assert "already imported" in second.content.decode()
    assert Guest.objects.count() == 1


def test_opening_the_import_link_by_get_is_refused_and_imports_nothing(client, checked) -> None:
    response = client.get(reverse("imports:apply", args=[checked.pk]))

    checked.refresh_from_db()
    assert response.status_code == 405
    assert checked.status == ImportUpload.Status.CHECKED
    assert Guest.objects.count() == 0


def test_the_progress_poll_reloads_the_page_once_the_task_is_done(client, checked) -> None:
    url = reverse("imports:detail", args=[checked.pk])
    ImportUpload.objects.filter(pk=checked.pk).update(status=ImportUpload.Status.APPLYING)

    running = client.get(url, headers={"HX-Request": "true"})
    assert running.status_code == 200 and b"hx-trigger" in running.content

    ImportUpload.objects.filter(pk=checked.pk).update(status=ImportUpload.Status.APPLIED)
    done = client.get(url, headers={"HX-Request": "true"})
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_a_file_being_imported_cannot_be_mapped_again(login, client, checked) -> None:
    ImportUpload.objects.filter(pk=checked.pk).update(status=ImportUpload.Status.APPLYING)
    assert client.get(reverse("imports:map", args=[checked.pk])).status_code == 404
