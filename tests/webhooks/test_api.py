"""Webhook endpoints through the REST API (scope webhooks:manage): every operation, the
scope refusals, bad input as problem details that change nothing (I1, I2)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from interfaces.webhooks.models import WebhookDelivery, WebhookEndpoint
from interfaces.webhooks.tasks import sweep_webhooks
from tests.api.conftest import pointers, problem_of
from tests.factories import GuestFactory

from .conftest import library_verified

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks/"


@pytest.fixture
def hooks(make_client):
    return make_client(["webhooks:manage"])


def test_a_pms_registers_an_endpoint_and_gets_its_secret_once(hooks, receiver) -> None:
    client, key = hooks
    response = client.post(
        BASE,
        {"url": receiver.url(), "events": ["message.status_changed", "consent.changed"]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert (
        body["events"] == ["message.status_changed", "consent.changed"] and body["active"] is True
    )
    listed = client.get(BASE).json()
    assert [e["id"] for e in listed] == [endpoint.pk] and "secret" not in listed[0]
    assert "secret" not in client.get(f"{BASE}{endpoint.pk}").json()
    # Written under the key's own account: the audit trail names the integration.
    entry = LogEntry.objects.get(object_id=str(endpoint.pk))
    assert entry.user == key.user


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        ({"url": "ftp://pms.example.com/", "events": ["consent.changed"]}, "/url"),
        ({"url": "not a url", "events": ["consent.changed"]}, "/url"),
        ({"url": "https://pms.example.com/", "events": []}, "/events"),
        ({"url": "https://pms.example.com/", "events": ["guest.deleted"]}, "/events/0"),
        (
            {"url": "https://pms.example.com/", "events": ["consent.changed"], "secret": "x"},
            "/secret",
        ),
        ({"events": ["consent.changed"]}, "/url"),
        ({"url": "https://pms.example.com/" + "a" * 500, "events": ["consent.changed"]}, "/url"),
        ({"url": 12, "events": ["consent.changed"]}, "/url"),
        ({"url": "https://pms.example.com/", "events": "consent.changed"}, "/events"),
        ({"url": "https://pms.example.com/", "events": [1]}, "/events/0"),
        (
            {"url": "https://pms.example.com/", "events": ["consent.changed"], "description": 5},
            "/description",
        ),
    ],
)
def test_bad_input_is_a_problem_and_changes_nothing(hooks, data, pointer) -> None:
    client, _ = hooks
    response = client.post(BASE, data, format="json")
    assert response.status_code == 400
    assert pointer in pointers(response)
    assert not WebhookEndpoint.objects.exists()


def test_a_key_without_the_scope_is_refused_everywhere(make_client, endpoint) -> None:
    ep, _ = endpoint
    client, _ = make_client(
        ["messages:read", "messages:send", "guests:write", "reservations:write"]
    )
    for method, url in (
        ("get", BASE),
        ("post", BASE),
        ("get", f"{BASE}{ep.pk}"),
        ("patch", f"{BASE}{ep.pk}"),
        ("delete", f"{BASE}{ep.pk}"),
        ("post", f"{BASE}{ep.pk}/secret"),
        ("get", f"{BASE}{ep.pk}/deliveries"),
    ):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url)
        assert "webhooks:manage" in problem_of(response)["detail"]
    assert WebhookEndpoint.objects.get().is_active


def test_no_key_is_a_401(client, endpoint) -> None:
    response = client.get(BASE)
    assert response.status_code == 401 and problem_of(response)


def test_change_disable_enable_and_delete(hooks, endpoint) -> None:
    client, _ = hooks
    ep, _ = endpoint
    url = f"{BASE}{ep.pk}"
    changed = client.patch(url, {"events": ["credits.low"], "description": "Opera"}, format="json")
    assert changed.status_code == 200 and changed.json()["events"] == ["credits.low"]
    assert client.patch(url, {"active": False}, format="json").json()["active"] is False
    assert client.patch(url, {"active": True}, format="json").json()["active"] is True
    assert client.patch(url, {"active": "false"}, format="json").status_code == 400
    refused = client.patch(url, {"url": "gopher://x"}, format="json")
    assert refused.status_code == 400 and pointers(refused) == {"/url"}
    assert WebhookEndpoint.objects.get().url == ep.url
    assert client.delete(url).status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert client.get(url).status_code == 404


def test_deliveries_show_every_attempt_and_redeliver_keeps_the_event_id(
    hooks, endpoint, receiver, django_capture_on_commit_callbacks
) -> None:
    client, _ = hooks
    ep, secret = endpoint
    receiver.status = 500
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )
    sweep_webhooks()
    page = client.get(f"{BASE}{ep.pk}/deliveries").json()
    (delivery,) = page["results"]
    assert delivery["status"] == "pending" and delivery["type"] == "consent.changed"
    assert [a["status_code"] for a in delivery["log"]] == [500]
    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}{ep.pk}/deliveries/{delivery['id']}/redeliver")
    assert response.status_code == 202
    first, again = receiver.wait_for_requests(2)
    assert (
        library_verified(again, secret)["id"] == delivery["event_id"] == first.header("webhook-id")
    )
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED
    assert client.post(f"{BASE}{ep.pk}/deliveries/999/redeliver").status_code == 404


@pytest.mark.parametrize("query", [{"cursor": "zz"}, {"cursor": "cD1hYmM="}, {"limit": "0"}])
def test_a_deliveries_page_that_no_link_gave_is_400_naming_the_parameter(
    hooks, endpoint, query: dict[str, str]
) -> None:
    client, _ = hooks
    ep, _secret = endpoint

    response = client.get(f"{BASE}{ep.pk}/deliveries", query)

    assert response.status_code == 400
    assert problem_of(response)["type"].endswith("/invalid-request")
    assert pointers(response) == {f"/{name}" for name in query}


def test_a_replaced_secret_is_in_the_answer_only(hooks, endpoint) -> None:
    client, _ = hooks
    ep, old = endpoint
    response = client.post(f"{BASE}{ep.pk}/secret")
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new != old and WebhookEndpoint.objects.get().secret == new


def test_an_address_that_is_no_endpoint_is_a_problem_404(hooks) -> None:
    client, _ = hooks
    for path in ("abc", "12/nothing", "%0A", "999"):
        response = client.get(f"{BASE}{path}")
        assert response.status_code == 404 and problem_of(response)
