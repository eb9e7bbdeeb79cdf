"""A send edited after its approval was asked for: the approvals show what it would send now,
approving approves exactly what was shown, and a refused approval leaves the run showing the
estimate it was refused at (QA: approvals showed 323 credits and approving spent 428)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from campaigns.models import CampaignRun, CampaignSettings, Source, Trigger
from campaigns.services import ApprovalSeen, campaign_run_approve, campaign_save, campaign_send
from channels_out.models import OutboundMessage, Status
from tests.factories import GuestFactory

from .test_screens_approvals import approve, shown_approval
from .test_screens_support import staff_user

pytestmark = pytest.mark.django_db

LONG_TEXT = "Spring offer for @NAME: " + "two nights for the price of one, spa included. " * 4


@pytest.fixture
def waiting(make_campaign, top_up, django_capture_on_commit_callbacks):
    """Three guests, one SMS part each: a send of 3 credits waiting for approval, 10 in hand."""
    top_up(10)
    CampaignSettings.objects.update(approval_recipient_threshold=2)
    campaign = make_campaign(
        name="Spring offer",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": "Spring offer for @NAME"},
    )
    GuestFactory.create_batch(3, language="en")
    run = campaign_send(campaign=campaign, user=staff_user("Marketing"))
    assert (run.state, run.estimated_recipients, run.estimated_cost) == (
        CampaignRun.State.AWAITING_APPROVAL,
        3,
        Decimal("3"),
    )
    return run


@pytest.fixture
def manager(client):
    user = staff_user("Manager")
    client.force_login(user)
    return user


def edit_text(run: CampaignRun, text: str) -> None:
    """Marketing saves a new English text, as the editor does."""
    campaign_save(campaign=run.campaign, fields={}, variants={"en": {"text": text}})


def queued(run: CampaignRun) -> int:
    return OutboundMessage.objects.filter(origin_id=run.pk).exclude(status=Status.SKIPPED).count()


def test_the_approvals_show_what_an_edited_send_would_cost_now(
    client: Client, manager, waiting
) -> None:
    edit_text(waiting, LONG_TEXT)  # two SMS parts each: 6 credits
    fragment, fields = shown_approval(client, waiting)

    assert "changed after this send was asked for" in fragment
    assert "Estimated before: 3 recipients, 3 credits." in fragment
    assert "<strong>6</strong> credits" in fragment
    assert (fields["recipients"], fields["credits"]) == ("3", "6")


def test_approving_what_is_no_longer_so_is_refused_and_the_run_shows_the_new_estimate(
    client: Client, manager, waiting, django_capture_on_commit_callbacks
) -> None:
    _fragment, seen = shown_approval(client, waiting)  # 3 credits on the manager's screen
    edit_text(waiting, LONG_TEXT)  # then marketing makes the text longer

    answer = client.post(reverse("campaigns:run-approve", args=[waiting.pk]), seen, follow=True)

    assert (
        "Not approved: the send changed since it was shown to you; it would now go to 3 "
        "recipients for 6 credits." in answer.content.decode()
    )
    waiting.refresh_from_db()
    assert (waiting.state, waiting.approved_by) == (CampaignRun.State.AWAITING_APPROVAL, None)
    assert (waiting.estimated_recipients, waiting.estimated_cost) == (3, Decimal("6"))
    assert queued(waiting) == 0

    with django_capture_on_commit_callbacks(execute=True):
        answer = approve(client, waiting)  # what the screen shows now: 6 credits
    assert "Approved: “Spring offer” is sending to 3 recipients." in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.estimated_cost == Decimal("6") and queued(waiting) == 3


def test_a_new_text_at_the_same_cost_is_not_approved_unseen(
    client: Client, manager, waiting
) -> None:
    _fragment, seen = shown_approval(client, waiting)
    edit_text(waiting, "Spring sale for @NAME")  # one part, as before: same figures

    answer = client.post(reverse("campaigns:run-approve", args=[waiting.pk]), seen, follow=True)

    assert "Not approved: the send changed since it was shown to you" in answer.content.decode()
    assert queued(waiting) == 0
    waiting.refresh_from_db()
    assert waiting.state == CampaignRun.State.AWAITING_APPROVAL


def test_an_approval_refused_for_the_balance_leaves_the_run_at_the_cost_it_was_refused_at(
    client: Client, manager, waiting
) -> None:
    edit_text(waiting, LONG_TEXT * 3)  # 5 parts each: 15 credits, 10 in hand
    fragment, seen = shown_approval(client, waiting)
    assert "<strong>15</strong> credits" in fragment and "more than the balance" in fragment
    assert 'disabled aria-disabled="true">Approve and send' in fragment

    answer = client.post(reverse("campaigns:run-approve", args=[waiting.pk]), seen, follow=True)

    assert "Not sent: cost 15 credits, balance 10." in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == CampaignRun.State.AWAITING_APPROVAL
    assert waiting.estimated_cost == Decimal("15")  # not the 3 it was asked for
    assert queued(waiting) == 0


def test_an_approval_that_does_not_say_what_it_approves_is_refused(
    client: Client, manager, waiting
) -> None:
    answer = client.post(reverse("campaigns:run-approve", args=[waiting.pk]), follow=True)

    assert "this approval did not say what it approves" in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == CampaignRun.State.AWAITING_APPROVAL and queued(waiting) == 0


def test_the_service_approves_the_runs_own_figures_only_while_they_hold(
    manager, waiting, django_capture_on_commit_callbacks
) -> None:
    """The admin's action approves what its list shows: the figures the run keeps."""
    edit_text(waiting, LONG_TEXT)
    with pytest.raises(ValidationError, match="3 recipients for 6 credits"):
        campaign_run_approve(run=waiting, user=manager)
    assert ApprovalSeen.of_run(CampaignRun.objects.get(pk=waiting.pk)) == ApprovalSeen(
        3, Decimal("6")
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run_approve(run=waiting, user=manager)
    assert run.approved_by == manager and queued(run) == 3


def test_the_runs_page_says_a_waiting_sends_estimate_is_from_before_the_edit(
    client: Client, manager, waiting
) -> None:
    url = reverse("campaigns:campaign-runs", args=[waiting.campaign.pk])
    assert "the approver sees the new estimate" not in client.get(url).content.decode()
    edit_text(waiting, LONG_TEXT)
    assert "the approver sees the new estimate" in client.get(url).content.decode()
