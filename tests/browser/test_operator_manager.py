"""An operator works the send log and a manager buys credits, in a real browser."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from channels_out.backends import TransportError, locmem
from channels_out.ledger import available_credits, credits_add
from channels_out.models import CreditOrder, OutboundMessage, Status
from channels_out.services import Step, message_send
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db(transaction=True)


def send(
    text: str, to: str, outcome: TransportError | None = None, **kwargs: Any
) -> OutboundMessage:
    """Queue an SMS; it is dispatched at once (after commit, tasks run in-process) with ``outcome``."""
    locmem.script(outcome)
    message = message_send(steps=Step(channel="sms", text=text, to=to), **kwargs)
    message.refresh_from_db()
    return message


def test_an_operator_filters_the_log_to_failures_and_resolves_an_unknown_outcome(
    page, login_as, screenshot, accounts
) -> None:
    credits_add(amount=Decimal(50), key="browser-top-up")
    guest = GuestFactory(first_name="Olga", last_name="Petrova", phone="+79123456789")
    delivered = send("Your room is ready.", "+905321234561", guest=guest)
    failed = send(
        "Your spa booking is at 15:00.",
        "+905321234562",
        TransportError("unknown destination", code="21211", permanent=True),
    )
    unknown = send(
        "Your taxi is booked for 06:00.",
        "+905321234563",
        TransportError("read timed out after the request was sent", ambiguous=True),
    )
    assert (delivered.status, failed.status, unknown.status) == (
        Status.SENT,
        Status.FAILED,
        Status.UNKNOWN,
    )
    operator = login_as("Operator")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sent messages").click()
    page.get_by_label("Status", exact=True).select_option(label="Failed or undelivered")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"status=failures"))
    rows = page.locator("#message-rows tr")
    assert rows.count() == 1
    assert (
        "spa booking" in rows.first.inner_text()
        and "unknown destination" in rows.first.inner_text()
    )
    screenshot("operator-log")

    page.get_by_role("link", name="Unknown outcomes to decide").click()
    assert "taxi is booked" in page.locator(f"#message-{unknown.pk}").inner_text()
    screenshot("operator-unknown")
    page.get_by_role("button", name=f"Mark message {unknown.pk} sent").click()
    page.get_by_text(f"Message #{unknown.pk} marked sent").wait_for()
    assert page.get_by_text("Nothing to decide.").is_visible()

    unknown.refresh_from_db()
    assert unknown.status == Status.SENT
    assert unknown.events.filter(source="operator", by=operator).exists()

    page.goto(f"/messages/{unknown.pk}/")
    assert "marked sent by an operator" in page.get_by_role("table").first.inner_text()
    screenshot("operator-message")


def test_the_status_of_a_message_under_way_refreshes_by_itself(page, login_as, accounts) -> None:
    from playwright.sync_api import expect

    credits_add(amount=Decimal(5), key="browser-top-up")
    later = timezone.now() + dt.timedelta(hours=1)
    waiting = message_send(
        steps=Step(channel="sms", text="See you tomorrow.", to="+905321234564"), not_before=later
    )
    login_as("Operator")
    page.goto("/messages/")
    status = page.locator(f"#message-{waiting.pk} .status")
    assert status.inner_text().startswith("Queued")

    # What the worker and the delivery receipt would do, written straight to the row.
    OutboundMessage.objects.filter(pk=waiting.pk).update(status=Status.DELIVERED)
    expect(status).to_contain_text("Delivered", timeout=8_000)
    assert page.locator("#message-rows[hx-trigger]").count() == 0  # nothing left to poll


def test_a_manager_buys_credits_pays_the_invoice_and_sees_the_balance_grow(
    page, login_as, screenshot, accounts
) -> None:
    credits_add(amount=Decimal(60), key="browser-top-up")
    for n in range(4):
        send("Breakfast is served from 7 to 10.", f"+90532123456{n}")
    message_send(steps=Step(channel="viber", text="Welcome to Lykia Bay!", to="+905321234570"))
    before = available_credits()
    login_as("Manager")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    assert page.locator("#balance-available").inner_text() == f"{before:.0f} credits available"
    # The page's own warning, and the header's once-per-crossing alert every staff page shows.
    assert page.locator("p.warning-note[role=alert]").inner_text().startswith("Low balance")
    assert page.locator("[data-alert=low][role=alert]").is_visible()
    page.get_by_label("Credits", exact=True).fill("500")
    page.get_by_role("button", name="Order credits").click()

    order = CreditOrder.objects.get()
    page.get_by_text(f"Invoice {order.invoice_number} issued: 50.00 EUR for 500 credits").wait_for()
    page.get_by_role("button", name=f"Mark {order.invoice_number} paid").click()
    page.get_by_text(f"{order.invoice_number} marked paid; 500 credits added.").wait_for()

    assert (
        page.locator("#balance-available").inner_text() == f"{before + 500:.0f} credits available"
    )
    assert page.get_by_role("alert").count() == 0
    assert page.get_by_role("img", name=re.compile("Credits spent by channel")).is_visible()
    screenshot("manager-credits")
    order.refresh_from_db()
    assert order.status == CreditOrder.Status.PAID


def test_a_manager_switches_viber_off_in_the_settings(page, login_as, screenshot) -> None:
    from channels_out.models import MessagingPolicy

    login_as("Manager")
    page.goto("/settings/")
    page.get_by_label("SMS + Viber").uncheck()
    page.get_by_label("Low-balance warning under (credits)").fill("-1")
    page.get_by_role("button", name="Save settings").click()
    assert (
        "greater than or equal to 0" in page.locator("#id_low_balance_threshold_error").inner_text()
    )
    assert MessagingPolicy.load().viber_first is True

    page.get_by_label("Low-balance warning under (credits)").fill("150")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    screenshot("manager-settings")
    policy = MessagingPolicy.load()
    assert (policy.viber_first, policy.low_balance_threshold) == (False, Decimal("150"))
