"""The import screen in Chromium (I3): upload a Turkish Excel CSV, map, dry run, import."""

from __future__ import annotations

from typing import Any

import pytest

from guests.models import Guest

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "Adı;Soyadı;E-posta;Cep Telefonu;SMS izni\n"
    "Ayşe;Yılmaz;ayse@example.com;0532 123 45 67;evet\n"
    "Bora;Demir;not-an-address;;\n"
    "Can;Öztürk;can@example.com;0533 765 43 21;\n"
)


def test_front_desk_imports_a_file_after_its_dry_run(
    page: Any, login_as: Any, screenshot: Any, tmp_path: Any
) -> None:
    login_as("Front desk")
    path = tmp_path / "misafirler.csv"
    path.write_bytes(CSV.encode("cp1254"))

    page.goto("/imports/")
    page.get_by_label("File (CSV or XLSX)").set_input_files(str(path))
    page.get_by_label("What the file holds").select_option("guests")
    page.get_by_label("Where it comes from").fill("Elektraweb")
    page.get_by_role("button", name="Upload and map the columns").click()

    # The headings were recognised; the consent column too.
    assert page.get_by_label("First name").input_value() == "Adı"
    assert page.get_by_label("Phone").input_value() == "Cep Telefonu"
    page.get_by_label("Consent: marketing SMS").select_option("SMS izni")
    page.get_by_role("button", name="Dry run").click()

    counts = page.locator("#import-counts")
    counts.wait_for()
    assert counts.locator("[data-outcome=created]").inner_text() == "2"
    assert counts.locator("[data-outcome=error]").inner_text() == "1"
    assert "not-an-address" in page.locator("#import-rows").inner_text()
    assert Guest.objects.count() == 0
    screenshot("import-dry-run")

    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_role("heading", name="Import done").wait_for()
    assert Guest.objects.count() == 2
    assert Guest.objects.get(email="ayse@example.com").phone == "+905321234567"
