"""The editor's preview shows the message on screen — unsaved, never written — exactly as it goes out."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign, MessageVariant, Source, Trigger
from channels_out.models import ChannelAccount, OutboundMessage, Status
from crm_messaging.ui.once import new_nonce
from guests.models import ConsentPurpose, ContactChannel
from guests.services import guest_record_consent
from interfaces.marketing.forms import CampaignEditor
from tests.factories import GuestFactory

from .test_screens_support import editor_data, staff_user

pytestmark = pytest.mark.django_db

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
TEXT = "Hi @NAME! Your page: @PORTAL — opt out: @UNSUBSCRIBE"


@pytest.fixture
def subscriber():
    guest = GuestFactory(first_name="Ayla", language="en", phone="+905321234567")
    guest_record_consent(
        guest=guest,
        purpose=ConsentPurpose.MARKETING,
        channel=ContactChannel.SMS,
        granted=True,
        source="staff",
    )
    return guest


def _message_text(page: str) -> str:
    match = re.search(r'<div class="preview-text[^"]*"[^>]*>(.*?)</div>', page, re.S)
    assert match, page
    return html.unescape(match.group(1))


def test_the_preview_reads_the_form_and_writes_nothing(
    client, marketing, make_campaign, hotel
) -> None:
    campaign = make_campaign(source=Source.GUESTS, texts={"en": "Saved text"})
    GuestFactory(first_name="Ayla", language="en")
    url = reverse("campaigns:campaign-preview", args=[campaign.pk])
    data = editor_data(
        purpose="service",
        steps=["sms", "email"],
        texts={"en": "On screen @NAME"},
        subjects={"en": "Hello"},
    )
    with CaptureQueriesContext(connection) as queries:
        page = client.post(url, data).content.decode()
    assert "On screen Ayla" in page
    writes = [q["sql"] for q in queries.captured_queries if WRITES.match(q["sql"])]
    assert writes == []
    assert MessageVariant.objects.get(campaign=campaign).text == "Saved text"


def test_a_new_campaigns_preview_writes_nothing_either(client, marketing, accounts, hotel) -> None:
    GuestFactory(first_name="Ayla", language="en")
    with CaptureQueriesContext(connection) as queries:
        page = client.post(
            reverse("campaigns:campaign-preview"), editor_data(purpose="service")
        ).content.decode()
    assert "Hello Ayla" in page
    assert [q["sql"] for q in queries.captured_queries if WRITES.match(q["sql"])] == []
    assert Campaign.objects.count() == 0


def test_a_template_error_is_reported_as_save_reports_it_not_the_saved_text(
    client, marketing, make_campaign
) -> None:
    campaign = make_campaign(source=Source.GUESTS, texts={"en": "Saved text @NAME"})
    GuestFactory(first_name="Ayla", language="en")
    data = editor_data(purpose="service", texts={"en": "Broken {{ guest.first_name "})
    preview = client.post(reverse("campaigns:campaign-preview", args=[campaign.pk]), data)
    page = preview.content.decode()
    assert "Saved text" not in page

    editor = CampaignEditor(data, campaign=campaign)
    assert not editor.is_valid()
    problems = editor.problems()
    assert problems
    saved = client.post(reverse("campaigns:campaign-edit", args=[campaign.pk]), data)
    save_page = saved.content.decode()
    for problem in problems:
        assert html.escape(problem.message, quote=True) in page
        assert html.escape(problem.message, quote=True) in save_page
    assert MessageVariant.objects.get(campaign=campaign).text == "Saved text @NAME"


def test_the_preview_and_the_confirmation_show_the_body_then_queued(
    client, marketing, accounts, subscriber, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(100)
    ChannelAccount.objects.filter(pk=accounts["sms"].pk).update(opt_out_hint="STOP: reply STOP")
    campaign = Campaign.objects.create(
        name="Offer",
        purpose=ConsentPurpose.MARKETING,
        source=Source.GUESTS,
        trigger=Trigger.OPERATOR,
    )
    data = editor_data(name="Offer", purpose="marketing", texts={"en": TEXT})
    url = reverse("campaigns:campaign-preview", args=[campaign.pk])
    preview_text = _message_text(client.post(url, data).content.decode())
    assert "would be skipped" not in preview_text
    assert "/guest/" in preview_text and "STOP: reply STOP" in preview_text

    # Saved as it was on screen; the confirmation page shows the same message.
    assert (
        client.post(reverse("campaigns:campaign-edit", args=[campaign.pk]), data).status_code == 302
    )
    confirmation = client.get(reverse("campaigns:campaign-send", args=[campaign.pk]))
    assert _message_text(confirmation.content.decode()) == preview_text

    staff_user("Operator", "op")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("campaigns:campaign-send", args=[campaign.pk]), {"nonce": new_nonce()})
    for callback in callbacks:  # the run's chunk: queue, do not deliver
        callback()
    queued = OutboundMessage.objects.get(guest=subscriber)
    assert queued.status == Status.QUEUED
    assert queued.body == preview_text


def test_an_email_preview_shows_the_subject_and_html_the_guest_gets(
    client, marketing, accounts, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(100)
    guest = GuestFactory(first_name="Ayla", language="en", email="ayla@example.com")
    campaign = Campaign.objects.create(name="Mail", source=Source.GUESTS, trigger=Trigger.OPERATOR)
    data = editor_data(
        name="Mail",
        purpose="service",
        steps=["email"],
        texts={"en": "Dear @NAME, see @PORTAL"},
        subjects={"en": "For @NAME"},
    )
    page = client.post(reverse("campaigns:campaign-preview", args=[campaign.pk]), data)
    text = _message_text(page.content.decode())
    assert text.startswith("Dear Ayla, see http")
    client.post(reverse("campaigns:campaign-edit", args=[campaign.pk]), data)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("campaigns:campaign-send", args=[campaign.pk]), {"nonce": new_nonce()})
    for callback in callbacks:
        callback()
    queued = OutboundMessage.objects.get(guest=guest)
    assert (queued.subject, queued.body) == ("For Ayla", text)
    assert "For Ayla" in page.content.decode()
