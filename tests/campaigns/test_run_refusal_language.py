"""A refused run's refusal (C12) is kept in no language and read in the reader's; credit
amounts on the send screens are written as the reader writes numbers (68.50 / 68,50); the
refusals older versions stored in English read the same way after the migration."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from campaigns.models import CampaignRun, Source, Trigger
from campaigns.services import campaign_run_reject
from channels_out.models import PriceRule
from crm_messaging.ui.once import new_nonce
from tests.factories import GuestFactory

from .test_screens_support import staff_user

pytestmark = pytest.mark.django_db
migration = importlib.import_module("campaigns.migrations.0011_run_refusal_in_no_language")


@pytest.fixture
def newsletter(make_campaign):
    return make_campaign(
        name="Spring offer", trigger=Trigger.OPERATOR, source=Source.GUESTS, texts={"en": "Hi"}
    )


def get(client, url: str, language: str) -> str:
    client.cookies["django_language"] = language
    return client.get(url).content.decode()


def test_a_refused_send_reads_in_turkish_and_in_english(
    client, marketing, newsletter, top_up
) -> None:
    top_up(Decimal("68.5"))
    PriceRule.objects.create(channel="sms", credits_per_unit=Decimal("65.75"))
    GuestFactory.create_batch(3)
    send_url = reverse("campaigns:campaign-send", args=[newsletter.pk])
    assert "maliyet 197,25 kredi, bakiye 68,50" in get(client, send_url, "tr")
    assert "cost 197.25 credits, balance 68.50" in get(client, send_url, "en")

    client.cookies["django_language"] = "tr"
    answer = client.post(send_url, {"nonce": new_nonce()}, follow=True).content.decode()
    assert "Gönderilmedi: maliyet 197,25 kredi, bakiye 68,50." in answer
    run = CampaignRun.objects.get()
    assert run.refusal == "cost 197.25 credits, balance 68.50"  # the admin's, in English

    runs_url = reverse("campaigns:campaign-runs", args=[newsletter.pk])
    turkish = get(client, runs_url, "tr")
    assert "maliyet 197,25 kredi, bakiye 68,50" in turkish and "cost 197" not in turkish
    assert "cost 197.25 credits, balance 68.50" in get(client, runs_url, "en")


def test_the_message_after_sending_writes_the_estimate_as_the_reader_does(
    client, marketing, newsletter, top_up
) -> None:
    top_up(100)
    PriceRule.objects.create(channel="sms", credits_per_unit=Decimal("1.5"))
    GuestFactory.create_batch(3)
    client.cookies["django_language"] = "tr"
    send_url = reverse("campaigns:campaign-send", args=[newsletter.pk])
    turkish = client.post(send_url, {"nonce": new_nonce()}, follow=True).content.decode()
    assert "3 alıcıya gönderiliyor (tahmini 4,50 kredi)" in turkish

    PriceRule.objects.update(credits_per_unit=Decimal("1"))
    GuestFactory.create_batch(2)
    client.cookies["django_language"] = "en"
    english = client.post(send_url, {"nonce": new_nonce()}, follow=True).content.decode()
    assert "sending to 5 recipients (5 credits estimated)" in english  # not "5.00"


def test_refusals_stored_in_english_before_read_in_turkish_after_the_migration(
    client, newsletter
) -> None:
    def run(occurrence: str, refusal: str, state: str) -> CampaignRun:
        return CampaignRun.objects.create(
            campaign=newsletter,
            trigger=Trigger.OPERATOR,
            occurrence=occurrence,
            state=state,
            refusal=refusal,
        )

    short = run("operator:1", "cost 1250.5 credits, balance 68.5", CampaignRun.State.REFUSED)
    rejected = run("operator:2", "rejected by the approver", CampaignRun.State.REJECTED)
    own_words = run("operator:3", "Wrong list", CampaignRun.State.REJECTED)
    client.force_login(staff_user("Operator"))
    runs_url = reverse("campaigns:campaign-runs", args=[newsletter.pk])
    assert "cost 1250.5 credits, balance 68.5" in get(client, runs_url, "tr")  # as stored

    migration.read_old_refusals(apps, None)  # ORM only: it needs no schema editor

    turkish = get(client, runs_url, "tr")
    assert "maliyet 1.250,50 kredi, bakiye 68,50" in turkish
    assert "onaylayan tarafından reddedildi" in turkish and "Wrong list" in turkish
    for kept in (short, rejected, own_words):
        before = kept.refusal
        kept.refresh_from_db()
        assert kept.refusal == before  # the English words stay for the admin
    own_words.refresh_from_db()
    assert own_words.refusal_words == {}


def test_a_rejection_without_a_reason_reads_in_the_readers_language(client, newsletter) -> None:
    waiting = CampaignRun.objects.create(
        campaign=newsletter,
        trigger=Trigger.OPERATOR,
        occurrence="operator:big",
        state=CampaignRun.State.AWAITING_APPROVAL,
    )
    campaign_run_reject(run=waiting, user=staff_user("Manager"))
    assert waiting.refusal == "rejected by the approver"
    client.force_login(staff_user("Operator"))
    runs_url = reverse("campaigns:campaign-runs", args=[newsletter.pk])
    assert "onaylayan tarafından reddedildi" in get(client, runs_url, "tr")
    assert "rejected by the approver" in get(client, runs_url, "en")
