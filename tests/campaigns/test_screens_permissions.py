"""Who may open which campaign screen: front desk none, operators read, marketing edits, managers approve."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import CampaignRun, Trigger

from .test_screens_support import editor_data, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(make_campaign):
    return make_campaign(trigger=Trigger.OPERATOR)


@pytest.fixture
def run(campaign):
    return CampaignRun.objects.create(
        campaign=campaign,
        trigger=Trigger.OPERATOR,
        occurrence="operator:x",
        state=CampaignRun.State.AWAITING_APPROVAL,
    )


def _screens(campaign, run) -> list[tuple[str, str]]:
    c, r = campaign.pk, run.pk
    return [
        ("get", reverse("campaigns:campaign-list")),
        ("get", reverse("campaigns:campaign-create")),
        ("post", reverse("campaigns:campaign-create")),
        ("get", reverse("campaigns:campaign-edit", args=[c])),
        ("post", reverse("campaigns:campaign-edit", args=[c])),
        ("post", reverse("campaigns:campaign-forecast")),
        ("post", reverse("campaigns:campaign-forecast", args=[c])),
        ("post", reverse("campaigns:campaign-preview")),
        ("post", reverse("campaigns:campaign-preview", args=[c])),
        ("post", reverse("campaigns:campaign-set-active", args=[c])),
        ("post", reverse("campaigns:campaign-duplicate", args=[c])),
        ("post", reverse("campaigns:campaign-gallery", args=[c])),
        ("post", reverse("campaigns:campaign-test-send", args=[c])),
        ("get", reverse("campaigns:campaign-audience", args=[c])),
        ("get", reverse("campaigns:recipient-message", args=[c, 1])),
        ("get", reverse("campaigns:campaign-send", args=[c])),
        ("post", reverse("campaigns:campaign-send", args=[c])),
        ("get", reverse("campaigns:campaign-runs", args=[c])),
        ("get", reverse("campaigns:campaign-dry-run", args=[c])),
        ("get", reverse("campaigns:approvals")),
        ("get", reverse("campaigns:run-sample", args=[r])),
        ("post", reverse("campaigns:run-approve", args=[r])),
        ("post", reverse("campaigns:run-reject", args=[r])),
    ]


def test_a_front_desk_user_gets_403_on_every_campaign_screen(client, campaign, run) -> None:
    client.force_login(staff_user("Front desk"))
    for method, url in _screens(campaign, run):
        answer = getattr(client, method)(url, editor_data() if method == "post" else None)
        assert answer.status_code == 403, (method, url)
    campaign.refresh_from_db()
    assert campaign.is_active and campaign.name == "Test campaign"


def test_signed_out_visitors_are_sent_to_the_login_page(client, campaign, run) -> None:
    for method, url in _screens(campaign, run):
        answer = getattr(client, method)(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/"), (
            method,
            url,
        )


def test_an_operator_reads_campaigns_and_runs_but_cannot_edit(client, campaign, run) -> None:
    client.force_login(staff_user("Operator"))
    assert client.get(reverse("campaigns:campaign-list")).status_code == 200
    assert client.get(reverse("campaigns:campaign-runs", args=[campaign.pk])).status_code == 200
    assert client.get(reverse("campaigns:campaign-audience", args=[campaign.pk])).status_code == 200
    assert client.get(reverse("campaigns:campaign-edit", args=[campaign.pk])).status_code == 403
    assert client.post(reverse("campaigns:campaign-forecast"), editor_data()).status_code == 403
    list_html = client.get(reverse("campaigns:campaign-list")).content.decode()
    assert "Deactivate" not in list_html and "New campaign" not in list_html


@pytest.mark.parametrize("role", ["Marketing", "Manager"])
def test_marketing_and_managers_open_the_editor(client, campaign, role) -> None:
    client.force_login(staff_user(role))
    assert client.get(reverse("campaigns:campaign-create")).status_code == 200
    assert client.get(reverse("campaigns:campaign-edit", args=[campaign.pk])).status_code == 200


def test_the_campaigns_link_is_in_the_navigation_of_who_may_open_it(client) -> None:
    client.force_login(staff_user("Marketing"))
    assert f'href="{reverse("campaigns:campaign-list")}"' in client.get("/").content.decode()
    client.force_login(staff_user("Front desk"))
    assert f'href="{reverse("campaigns:campaign-list")}"' not in client.get("/").content.decode()
