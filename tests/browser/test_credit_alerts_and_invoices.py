"""In Chromium: the manager's header warns of a low balance until dismissed, and the credits
screen downloads an order's invoice as a PDF."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from channels_out.ledger import credits_add, credits_remove
from channels_out.models import MessagingPolicy
from channels_out.services.credits import credit_order_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_header_warns_until_dismissed_and_invoices_download(page, login_as) -> None:
    MessagingPolicy.objects.filter(pk=MessagingPolicy.load().pk).update(
        low_balance_threshold=Decimal(100)
    )
    credits_add(amount=Decimal(150), key="start")
    credits_remove(amount=Decimal(80), key="spent")  # 150 → 70: under 100
    order = credit_order_create(credits=500)
    login_as("Manager")

    warning = page.locator('[data-alert="low"]')
    expect(warning).to_contain_text("Credits are low: 70 left, under the threshold of 100.")
    warning.get_by_role("button", name="Dismiss").click()
    expect(page.locator('[data-alert="low"]')).to_have_count(0)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    expect(page.locator('[data-alert="low"]')).to_have_count(0)  # dismissed for this crossing
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download invoice {order.invoice_number} (PDF)").click()
    assert download.value.suggested_filename == f"invoice-{order.invoice_number}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
