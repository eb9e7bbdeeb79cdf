"""Large sends wait for a second member of staff; runs show their live counts (C11, C12)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import CampaignRun, CampaignSettings, Source, Trigger
from channels_out.models import OutboundMessage, Status
from crm_messaging.ui.once import new_nonce
from tests.factories import GuestFactory

from .test_screens_support import run_with_messages, staff_user

pytestmark = pytest.mark.django_db

APPROVALS = reverse("campaigns:approvals")


def shown_approval(client: Client, run: CampaignRun) -> tuple[str, dict[str, str]]:
    """The run's part of the approvals (its htmx fragment) and what its *Approve and send*
    button posts: the figures and campaign version it shows."""
    fragment = client.get(reverse("campaigns:run-sample", args=[run.pk])).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', fragment))
    return fragment, fields


def approve(client: Client, run: CampaignRun) -> Any:
    """Approve the run as the approvals show it now, following the redirect."""
    _fragment, fields = shown_approval(client, run)
    return client.post(reverse("campaigns:run-approve", args=[run.pk]), fields, follow=True)


@pytest.fixture
def large_send(make_campaign, top_up, django_capture_on_commit_callbacks):
    """A marketing user asked to send a newsletter above the approval threshold."""
    top_up(100)
    rules = CampaignSettings.load()
    rules.approval_recipient_threshold = 2
    rules.save()
    campaign = make_campaign(
        name="Big newsletter",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": "Offer for @NAME"},
    )
    GuestFactory.create_batch(3)
    marketing = Client()
    marketing.force_login(staff_user("Marketing"))
    with django_capture_on_commit_callbacks(execute=True):
        answer = marketing.post(
            reverse("campaigns:campaign-send", args=[campaign.pk]),
            {"nonce": new_nonce()},
            follow=True,
        )
    assert "awaiting approval by a second member of staff" in answer.content.decode()
    return CampaignRun.objects.get()


def test_a_large_send_waits_and_the_manager_approves_it_from_the_screen(
    client, large_send, django_capture_on_commit_callbacks
) -> None:
    assert large_send.state == CampaignRun.State.AWAITING_APPROVAL
    assert not OutboundMessage.objects.exists()
    manager = staff_user("Manager")
    client.force_login(manager)
    html = client.get(APPROVALS).content.decode()
    assert "Big newsletter" in html
    assert reverse("campaigns:run-sample", args=[large_send.pk]) in html
    sample, _fields = shown_approval(client, large_send)
    assert "<strong>3</strong> credits" in sample and "Approve and send" in sample
    assert "Guest" in sample and "Offer for Guest" in sample
    assert "changed after this send was asked for" not in sample

    assert client.get(reverse("campaigns:run-approve", args=[large_send.pk])).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        answer = approve(client, large_send)
    assert "Approved: “Big newsletter” is sending to 3 recipients." in answer.content.decode()
    large_send.refresh_from_db()
    assert large_send.approved_by == manager
    assert large_send.state in (CampaignRun.State.RUNNING, CampaignRun.State.DONE)
    assert OutboundMessage.objects.count() == 3


def test_a_rejected_send_sends_nothing(client, large_send) -> None:
    client.force_login(staff_user("Manager"))
    answer = client.post(
        reverse("campaigns:run-reject", args=[large_send.pk]), {"reason": "Wrong list"}, follow=True
    )
    assert "Rejected: “Big newsletter” sends nothing." in answer.content.decode()
    large_send.refresh_from_db()
    assert (large_send.state, large_send.refusal) == (CampaignRun.State.REJECTED, "Wrong list")
    assert not OutboundMessage.objects.exists()


def test_the_requester_cannot_approve_his_own_send(client, large_send) -> None:
    requester = large_send.requested_by
    requester.groups.add(*staff_user("Manager", "other-manager").groups.all())  # now also a manager
    client.force_login(requester)
    answer = approve(client, large_send)
    assert "cannot be approved by the person who asked for it" in answer.content.decode()
    large_send.refresh_from_db()
    assert large_send.state == CampaignRun.State.AWAITING_APPROVAL


def test_approving_a_run_no_longer_waiting_is_refused_with_a_message(client, large_send) -> None:
    client.force_login(staff_user("Manager"))
    _fragment, fields = shown_approval(client, large_send)
    client.post(reverse("campaigns:run-reject", args=[large_send.pk]))
    answer = client.post(
        reverse("campaigns:run-approve", args=[large_send.pk]), fields, follow=True
    )
    assert "not awaiting approval" in answer.content.decode()


def test_marketing_cannot_open_the_approvals(client) -> None:
    client.force_login(staff_user("Marketing"))
    assert client.get(APPROVALS).status_code == 403


def test_the_runs_of_a_campaign_show_state_refusal_and_live_counts(client, make_campaign) -> None:
    campaign = make_campaign(name="Newsletter")
    run_with_messages(campaign, n=2)
    CampaignRun.objects.create(
        campaign=campaign,
        trigger=Trigger.OPERATOR,
        occurrence="operator:refused",
        state=CampaignRun.State.REFUSED,
        refusal="cost 30.6 credits, balance 0.4",
        estimated_cost=Decimal("30.6"),
    )
    client.force_login(staff_user("Operator"))
    html = client.get(reverse("campaigns:campaign-runs", args=[campaign.pk])).content.decode()
    assert "cost 30.6 credits, balance 0.4" in html and "Refused" in html
    assert "skipped 2" in html and "No credits 2" in html


def test_the_runs_list_refreshes_itself_while_a_run_is_sending(client, make_campaign) -> None:
    campaign = make_campaign()
    run_with_messages(campaign, n=1, state=CampaignRun.State.RUNNING)
    client.force_login(staff_user("Operator"))
    url = reverse("campaigns:campaign-runs", args=[campaign.pk])
    assert 'hx-trigger="every 5s"' in client.get(url).content.decode()
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="runs"') and "<html" not in fragment


def test_the_runs_list_takes_as_many_queries_for_many_runs_as_for_few(
    client, make_campaign
) -> None:
    campaign = make_campaign()
    client.force_login(staff_user("Operator"))
    url = reverse("campaigns:campaign-runs", args=[campaign.pk])
    run_with_messages(campaign, n=1)
    client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(12):
        run_with_messages(campaign, n=2)
    assert queries() == few


def test_the_approvals_take_as_many_queries_for_many_sends_as_for_few(
    client, make_campaign
) -> None:
    client.force_login(staff_user("Manager"))

    def waiting(count: int) -> None:
        for _ in range(count):
            campaign = make_campaign(trigger=Trigger.OPERATOR)
            run_with_messages(campaign, n=0, state=CampaignRun.State.AWAITING_APPROVAL)

    waiting(1)
    client.get(APPROVALS)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(APPROVALS).status_code == 200
        return len(captured)

    few = queries()
    waiting(9)
    assert queries() == few
    assert client.get(APPROVALS).content.decode().count('hx-trigger="load"') == 10


def test_the_approver_sees_the_recipients_the_estimate_counted_and_the_send_queues(
    client, make_campaign, top_up, django_capture_on_commit_callbacks
) -> None:
    """The approvals screen shows the number the threshold judged — who would really get the
    message, not the audience — and approving queues exactly that many (QA1 item 5)."""
    top_up(100)
    rules = CampaignSettings.load()
    rules.approval_recipient_threshold = 2
    rules.save()
    campaign = make_campaign(
        name="Spring SMS", trigger=Trigger.OPERATOR, source=Source.GUESTS, texts={"en": "Hi @NAME"}
    )
    GuestFactory.create_batch(3)
    GuestFactory.create_batch(4, phone="", phone_valid=False)  # in the audience, no address
    marketing = Client()
    marketing.force_login(staff_user("Marketing"))
    with django_capture_on_commit_callbacks(execute=True):
        marketing.post(
            reverse("campaigns:campaign-send", args=[campaign.pk]), {"nonce": new_nonce()}
        )
    run = CampaignRun.objects.get()
    assert run.state == CampaignRun.State.AWAITING_APPROVAL
    assert (run.audience_size, run.estimated_recipients) == (7, 3)

    client.force_login(staff_user("Manager"))
    html, _fields = shown_approval(client, run)
    shown = re.search(r"<dt>Recipients</dt><dd>(\d+)", html)
    assert shown is not None and int(shown.group(1)) == run.estimated_recipients

    with django_capture_on_commit_callbacks(execute=True):
        answer = approve(client, run)
    queued = OutboundMessage.objects.filter(origin_id=run.pk).exclude(status=Status.SKIPPED)
    assert queued.count() == run.estimated_recipients == 3
    assert "Approved: “Spring SMS” is sending to 3 recipients." in answer.content.decode()
