"""The manager's webhook screens (I2): endpoints with their secret shown once, deliveries and
their attempts, redeliver by POST; other roles are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from crm_messaging.ui.once import new_nonce
from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from interfaces.staff.roles import sync_roles
from interfaces.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from interfaces.webhooks.tasks import sweep_webhooks
from tests.factories import GuestFactory

from .conftest import library_verified

pytestmark = pytest.mark.django_db

LIST = reverse("webhooks:endpoint-list")


@pytest.fixture
def login(client, django_user_model) -> Callable[[str], Any]:
    def as_role(role: str) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(role.lower().replace(" ", ""), first_name=role)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(client, login, receiver) -> None:
    login("Manager")
    response = client.post(
        LIST,
        {
            "url": receiver.url(),
            "description": "Elektraweb",
            "events": ["message.status_changed", "credits.low"],
            "nonce": new_nonce(),
        },
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    secret = endpoint.secret
    assert secret.startswith("whsec_") and secret in response.content.decode()
    assert endpoint.events == ["message.status_changed", "credits.low"]
    for url in (LIST, reverse("webhooks:endpoint-detail", args=[endpoint.pk])):
        page = client.get(url).content.decode()
        assert endpoint.url in page and secret not in page  # never shown again


def test_refreshing_the_secret_page_registers_no_second_endpoint(client, login, receiver) -> None:
    login("Manager")
    form = {"url": receiver.url(), "events": ["credits.low"], "nonce": new_nonce()}

    made = client.post(LIST, form)
    refreshed = client.post(LIST, form, follow=True)

    secret = WebhookEndpoint.objects.get().secret
    assert secret in made.content.decode()
    assert refreshed.redirect_chain == [(LIST, 302)]
    page = refreshed.content.decode()
    assert "This form had already been sent; it was not done again." in page
    assert secret not in page


def test_bad_input_gets_an_error_and_changes_nothing(client, login) -> None:
    login("Manager")
    for data in (
        {"url": "ftp://pms.example.com/", "events": ["consent.changed"]},
        {"url": "not a url", "events": ["consent.changed"]},
        {"url": "https://pms.example.com/", "events": []},
        {"url": "https://pms.example.com/", "events": ["guest.deleted"]},
    ):
        response = client.post(LIST, {**data, "nonce": new_nonce()})
        assert response.status_code == 200
        assert "Nothing was saved" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["Front desk", "Marketing", "Operator"])
def test_other_roles_may_not_open_or_change_webhooks(client, login, role, endpoint) -> None:
    login(role)
    ep, _ = endpoint
    assert client.get(LIST).status_code == 403
    assert (
        client.post(LIST, {"url": "https://x.example/", "events": ["consent.changed"]}).status_code
        == 403
    )
    assert client.get(reverse("webhooks:endpoint-detail", args=[ep.pk])).status_code == 403
    for name in ("endpoint-disable", "endpoint-rotate", "endpoint-delete"):
        assert client.post(reverse(f"webhooks:{name}", args=[ep.pk])).status_code == 403
    ep.refresh_from_db()
    assert ep.is_active and WebhookEndpoint.objects.count() == 1


def test_anonymous_visitors_go_to_the_login(client, endpoint) -> None:
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_get_changes_nothing(client, login, endpoint) -> None:
    login("Manager")
    ep, _ = endpoint
    assert client.get(reverse("webhooks:endpoint-disable", args=[ep.pk])).status_code == 405
    assert client.get(reverse("webhooks:endpoint-delete", args=[ep.pk])).status_code == 405
    ep.refresh_from_db()
    assert ep.is_active


def test_the_manager_redelivers_an_event_with_the_same_id(
    client, login, endpoint, receiver, django_capture_on_commit_callbacks
) -> None:
    ep, secret = endpoint
    manager = login("Manager")
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )
    sweep_webhooks()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    detail = client.get(reverse("webhooks:endpoint-detail", args=[ep.pk])).content.decode()
    assert delivery.event.event_id in detail and "HTTP 200" in detail

    url = reverse("webhooks:delivery-redeliver", args=[ep.pk, delivery.pk])
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, HTTP_HX_REQUEST="true")
    assert (
        response.status_code == 200 and f'id="delivery-{delivery.pk}"' in response.content.decode()
    )
    first, again = receiver.wait_for_requests(2)
    assert first.header("webhook-id") == again.header("webhook-id") == delivery.event.event_id
    assert library_verified(again, secret)["id"] == delivery.event.event_id
    manual = WebhookAttempt.objects.order_by("pk").last()
    assert manual.manual and manual.requested_by == manager and manual.status_code == 200


def test_a_disabled_endpoint_is_not_redelivered_to_until_enabled(
    client, login, endpoint, receiver
) -> None:
    ep, _ = endpoint
    login("Manager")
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )
    client.post(reverse("webhooks:endpoint-disable", args=[ep.pk]))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    response = client.post(
        reverse("webhooks:delivery-redeliver", args=[ep.pk, delivery.pk]), follow=True
    )
    assert "enable it first" in response.content.decode()
    sweep_webhooks()
    assert receiver.requests == []
    client.post(reverse("webhooks:endpoint-enable", args=[ep.pk]))
    client.post(reverse("webhooks:delivery-redeliver", args=[ep.pk, delivery.pk]))
    sweep_webhooks()
    assert len(receiver.wait_for_requests(1)) == 1


def test_replacing_the_secret_signs_with_the_new_one(client, login, endpoint, receiver) -> None:
    ep, old = endpoint
    login("Manager")
    response = client.post(reverse("webhooks:endpoint-rotate", args=[ep.pk]))
    new = WebhookEndpoint.objects.get().secret
    assert new != old and new in response.content.decode()
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )
    sweep_webhooks()
    (request,) = receiver.wait_for_requests(1)
    assert library_verified(request, new)


def test_the_screens_speak_turkish(client, login, endpoint) -> None:
    login("Manager")
    ep, _ = endpoint
    client.cookies["django_language"] = "tr"
    with translation.override("tr"):
        page = client.get(LIST, HTTP_ACCEPT_LANGUAGE="tr").content.decode()
    assert "Uç noktalar" in page and "Uç nokta ekle" in page


def test_every_webhook_screen_in_turkish_has_no_english_words_or_raw_codes(
    client, login, endpoint, receiver
) -> None:
    from tests.staff.turkish_walk import Checker, visible_text

    ep, _ = endpoint
    login("Manager")
    receiver.status = 503
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )
    sweep_webhooks()  # one failed attempt: a pending delivery with its answer
    WebhookEndpoint.objects.filter(pk=ep.pk).update(
        is_active=False, disabled_reason="Every delivery failed for 24 hours (last: HTTP 503)."
    )  # the header's warning too
    client.cookies["django_language"] = "tr"
    checker = Checker()
    findings = []
    pages = {
        "list": client.get(LIST),
        "detail": client.get(reverse("webhooks:endpoint-detail", args=[ep.pk])),
        "secret": client.post(reverse("webhooks:endpoint-rotate", args=[ep.pk])),
    }
    for name, response in pages.items():
        assert response.status_code == 200 and response["Content-Language"] == "tr", name
        findings += checker.check(name, visible_text(response.content.decode()))
    assert not findings, "\n".join(str(f) for f in findings)
