"""The webhook screens in Chromium (I2): add an endpoint, copy its secret once, see a
delivery's attempts and redeliver it (htmx swaps the row)."""

from __future__ import annotations

from typing import Any

import pytest

from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from interfaces.webhooks.models import WebhookAttempt, WebhookEndpoint
from tests.factories import GuestFactory
from tests.webhooks.conftest import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings: Any) -> Any:
    settings.WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]  # the receiver is on loopback
    sink = Receiver(200)
    sink.start()
    yield sink
    sink.stop()


def test_a_manager_adds_an_endpoint_and_redelivers_an_event(
    page: Any, login_as: Any, screenshot: Any, receiver: Receiver
) -> None:
    login_as("Manager")
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("URL").fill(receiver.url())
    page.get_by_label("Description").fill("Elektraweb")
    page.get_by_label("Consent changed").check()
    page.get_by_label("Message status changed").check()
    page.get_by_role("button", name="Add endpoint").click()

    secret = page.locator("#endpoint-secret").inner_text()
    assert secret.startswith("whsec_") and secret == WebhookEndpoint.objects.get().secret
    page.get_by_role("link", name="Continue to the endpoint").click()
    assert secret not in page.content()

    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=False,
        source=ConsentSource.STAFF,
    )  # delivered at once (the test runs tasks inline)
    receiver.wait_for_requests(1)
    page.reload()
    row = page.locator("tbody tr").first
    assert "Delivered" in row.inner_text()
    row.get_by_role("button", name="Redeliver").click()
    page.locator("tbody tr details li").nth(1).wait_for(state="attached")  # the swapped row
    assert len(receiver.wait_for_requests(2)) == 2
    assert WebhookAttempt.objects.filter(manual=True).count() == 1
    page.locator("tbody tr details summary").first.click()
    screenshot("manager-webhooks")
