"""The campaign editor's account dialog in Chromium: a manager adds the account a step uses,
checks it and edits it without leaving the editor, and keeps his unsaved work."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from channels_out.models import ChannelAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_adds_checks_and_edits_a_steps_account_from_the_editor(
    page, login_as, screenshot
) -> None:
    login_as("Manager")
    page.goto("/campaigns/new/")
    page.get_by_label("Internal name", exact=True).fill("Welcome SMS")
    page.locator("#id_steps-0-channel").select_option("sms")

    page.get_by_role("button", name="New account for step 1").click()
    dialog = page.locator("dialog[data-account-dialog]")
    expect(dialog.get_by_role("heading")).to_have_text("New channel account")
    expect(dialog.get_by_label("Channel", exact=True)).to_have_value("sms")
    dialog.get_by_label("Name", exact=True).fill("Hotel texts")
    dialog.get_by_label("Backend", exact=True).select_option("sandbox")
    dialog.get_by_label("Sender", exact=True).fill("LYKIA BAY")
    dialog.get_by_role("button", name="Save account").click()

    expect(dialog.locator("[data-saved]")).to_contain_text(
        "“Hotel texts” was added and chosen for this step."
    )
    account = ChannelAccount.objects.get(name="Hotel texts")
    expect(page.locator("#id_steps-0-account")).to_have_value(str(account.pk))
    # The other steps can choose it too, without a reload.
    expect(page.locator(f"#id_steps-1-account option[value='{account.pk}']")).to_have_count(1)

    dialog.get_by_role("button", name="Check account").click()
    expect(dialog.locator("[data-check-result]")).to_have_attribute("data-check-result", "ok")

    dialog.get_by_label("Name", exact=True).fill("Hotel SMS")
    dialog.get_by_role("button", name="Save account").click()
    expect(dialog.locator("[data-saved]")).to_contain_text("“Hotel SMS” was saved.")
    expect(page.locator("#id_steps-0-account")).to_have_value(str(account.pk))
    expect(page.locator(f"#id_steps-0-account option[value='{account.pk}']")).to_have_text(
        "Hotel SMS"
    )

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    # The editor's unsaved work is still there.
    expect(page.get_by_label("Internal name", exact=True)).to_have_value("Welcome SMS")
    page.get_by_role("button", name="Edit or check the account of step 1").click()
    expect(page.locator("dialog[data-account-dialog]").get_by_role("heading")).to_have_text(
        "Account “Hotel SMS”"
    )
    screenshot("marketing-account-dialog")
