"""The unknown-outcomes queue (R2): an operator marks a message sent or resends it, by POST, and
the decision is recorded with the operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from channels_out.models import OutboundMessage, Status
from interfaces.staff.roles import sync_roles

pytestmark = pytest.mark.django_db

QUEUE = reverse("channels_out:unknown-queue")


@pytest.fixture
def login(client, django_user_model) -> Callable[[str], Any]:
    def as_role(role: str) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(role.lower().replace(" ", ""), first_name=role)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


def test_the_queue_lists_unknown_outcomes_with_both_decisions(client, login, unknown) -> None:
    login("Operator")
    response = client.get(QUEUE)
    html = response.content.decode()
    assert [m.pk for m in response.context["page"].object_list] == [unknown.pk]
    assert reverse("channels_out:message-mark-sent", args=[unknown.pk]) in html
    assert reverse("channels_out:message-resend", args=[unknown.pk]) in html
    assert "csrfmiddlewaretoken" in html


def test_mark_sent_settles_the_message_and_records_the_operator(client, login, unknown) -> None:
    operator = login("Operator")
    response = client.post(
        reverse("channels_out:message-mark-sent", args=[unknown.pk]), follow=True
    )
    unknown.refresh_from_db()
    assert unknown.status == Status.SENT
    assert unknown.events.filter(source="operator", status=Status.SENT, by=operator).exists()
    assert LogEntry.objects.filter(user=operator, object_id=str(unknown.pk)).exists()
    assert f"Message #{unknown.pk} marked sent" in response.content.decode()
    assert response.context["page"].paginator.count == 0


def test_resend_queues_a_copy_once_and_records_the_operator(client, login, unknown) -> None:
    operator = login("Operator")
    url = reverse("channels_out:message-resend", args=[unknown.pk])
    client.post(url)
    second = client.post(url, follow=True)
    unknown.refresh_from_db()
    copy = OutboundMessage.objects.get(resend_of=unknown)
    assert (unknown.status, copy.status, copy.sent_by) == (Status.FAILED, Status.QUEUED, operator)
    assert unknown.events.filter(source="operator", status=Status.FAILED, by=operator).exists()
    assert OutboundMessage.objects.filter(resend_of=unknown).count() == 1
    assert f"already resent it as #{copy.pk} at" in second.content.decode()


def test_the_second_operator_is_told_what_the_first_decided(
    client, login, unknown, django_user_model
) -> None:
    """Two operators had the queue open; one marked the message sent, the other presses resend."""
    first = django_user_model.objects.create_user("ayse", first_name="Ayşe", last_name="Kaya")
    from channels_out.services import message_mark_sent

    message_mark_sent(message=unknown, user=first)
    login("Operator")
    response = client.post(reverse("channels_out:message-resend", args=[unknown.pk]), follow=True)
    html = response.content.decode()
    assert f"#{unknown.pk}: Ayşe Kaya already marked it sent at " in html
    assert "nothing was changed" in html
    assert not OutboundMessage.objects.filter(resend_of=unknown).exists()


def test_a_decision_is_a_post(client, login, unknown) -> None:
    login("Operator")
    assert (
        client.get(reverse("channels_out:message-mark-sent", args=[unknown.pk])).status_code == 405
    )


def test_a_decision_needs_the_csrf_token(unknown, django_user_model) -> None:
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    sync_roles()
    user = django_user_model.objects.create_user("op2")
    user.groups.add(Group.objects.get(name="Operator"))
    csrf_client.force_login(user)
    response = csrf_client.post(reverse("channels_out:message-mark-sent", args=[unknown.pk]))
    unknown.refresh_from_db()
    assert response.status_code == 403
    assert unknown.status == Status.UNKNOWN


def test_front_desk_sees_the_queue_but_cannot_decide(client, login, unknown) -> None:
    login("Front desk")
    html = client.get(QUEUE).content.decode()
    assert reverse("channels_out:message-mark-sent", args=[unknown.pk]) not in html
    response = client.post(reverse("channels_out:message-mark-sent", args=[unknown.pk]))
    unknown.refresh_from_db()
    assert response.status_code == 403
    assert unknown.status == Status.UNKNOWN


def test_the_decision_returns_to_the_page_it_came_from_but_never_off_site(
    client, login, unknown
) -> None:
    login("Operator")
    detail = reverse("channels_out:message-detail", args=[unknown.pk])
    assert (
        client.post(reverse("channels_out:message-mark-sent", args=[unknown.pk]), {"next": detail})[
            "Location"
        ]
        == detail
    )
    off_site = client.post(
        reverse("channels_out:message-resend", args=[unknown.pk]), {"next": "https://evil.example/"}
    )
    assert off_site["Location"] == QUEUE
