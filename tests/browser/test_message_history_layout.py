"""The stay's message history keeps its status column on screen: a message holding a long URL
(or any word longer than the column) wraps inside its cell instead of pushing the status out
of a 1400 px window."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from channels_out.services import Step, message_send
from guests.models import Reservation
from tests.browser.test_front_desk import stay  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

LONG_URL = "https://booking.example.com/confirm/" + "a1b2c3d4e5" * 30
LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitän" * 4


@pytest.mark.parametrize("width", [1400, 1024])
def test_the_status_column_stays_in_the_window_with_a_long_url_in_a_message(
    page,
    login_as,
    stay: Reservation,  # noqa: F811
    width: int,
) -> None:
    for text in (f"Your booking is confirmed: {LONG_URL}", f"{LONG_WORD} {LONG_URL}"):
        message_send(steps=Step(channel="sms", text=text), guest=stay.booker, reservation=stay)
    page.set_viewport_size({"width": width, "height": 900})
    login_as("Front desk")
    page.goto(f"/desk/reservations/{stay.pk}/")

    history = page.locator("#message-history")
    expect(history).to_contain_text("Your booking is confirmed")
    window = page.evaluate("() => document.documentElement.clientWidth")
    statuses = history.locator("td.status")
    expect(statuses).to_have_count(2)
    for index in range(2):
        cell = statuses.nth(index)
        expect(cell.locator(".badge")).to_be_visible()
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= window, (box, window)
        badge = cell.locator(".badge").bounding_box()
        assert badge is not None and badge["x"] + badge["width"] <= window
    # Nothing scrolls sideways: not the page, not the history's table.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= window
    wrap = history.locator(".table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
