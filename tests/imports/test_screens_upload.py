"""The import screens (I3): who may open them, the upload's refusals, the mapping page's
suggestions and the preset it remembers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm_messaging.ui.once import new_nonce
from interfaces.imports.models import ImportPreset, ImportUpload

pytestmark = pytest.mark.django_db

START = reverse("imports:start")
CSV = "Adı;Soyadı;E-posta;Telefon\nAyşe;Yılmaz;ayse@example.com;0532 123 45 67\n".encode()


def upload(
    client,
    data: bytes = CSV,
    name: str = "guests.csv",
    kind: str = "guests",
    source: str = "Elektraweb",
    nonce: str = "",
):
    return client.post(
        START,
        {
            "file": SimpleUploadedFile(name, data),
            "kind": kind,
            "source": source,
            "encoding": "",
            "delimiter": "",
            "nonce": nonce or new_nonce(),
        },
    )


@pytest.mark.parametrize("role", ["Manager", "Front desk"])
def test_managers_and_the_front_desk_may_import(login, client, role) -> None:
    login(role)
    assert client.get(START).status_code == 200


@pytest.mark.parametrize("role", ["Marketing", "Operator"])
def test_other_roles_may_not(login, client, role) -> None:
    login(role)
    assert client.get(START).status_code == 403
    assert upload(client).status_code == 403
    assert not ImportUpload.objects.exists()


def test_an_unreadable_file_is_refused_and_nothing_is_kept(login, client) -> None:
    login("Front desk")
    response = upload(client, data=b"email,email\na,b\n")
    assert response.status_code == 200
    assert "Two columns are called" in response.content.decode()
    assert not ImportUpload.objects.exists()


def test_the_mapping_page_suggests_columns_from_the_headings(login, client) -> None:
    login("Front desk")
    response = upload(client)
    item = ImportUpload.objects.get()
    assert response.url == reverse("imports:map", args=[item.pk])

    page = client.get(response.url)

    form = page.context["form"]
    assert form.initial["first_name"] == "Adı" and form.initial["phone"] == "Telefon"
    assert "Ayşe" in page.content.decode()  # the first rows are shown


def test_a_mapping_without_a_required_field_is_refused_and_nothing_runs(login, client) -> None:
    login("Front desk")
    item_url = upload(client).url
    item = ImportUpload.objects.get()

    response = client.post(item_url, {"email": "E-posta"})

    assert response.status_code == 200
    assert "Choose the column for" in response.content.decode()
    item.refresh_from_db()
    assert item.status == ImportUpload.Status.UPLOADED and item.dry_run is None
    assert not ImportPreset.objects.exists()


def test_a_saved_preset_maps_the_next_file_from_the_same_source(login, client) -> None:
    login("Manager")
    ImportPreset.objects.create(
        source="elektraweb", kind="guests", mapping={"first_name": "Soyadı", "last_name": "Adı"}
    )
    page = client.get(upload(client).url)

    assert page.context["form"].initial["first_name"] == "Soyadı"
    assert page.context["form"].initial["last_name"] == "Adı"


def test_the_same_upload_sent_twice_is_one_upload(login, client) -> None:
    login("Front desk")
    nonce = new_nonce()

    first = upload(client, nonce=nonce)
    again = upload(client, nonce=nonce)

    item = ImportUpload.objects.get()
    assert first["Location"] == again["Location"] == reverse("imports:map", args=[item.pk])
