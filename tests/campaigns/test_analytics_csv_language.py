"""The campaign analytics CSV (E4) speaks the downloading staff member's language: its
headings and row kinds are the screen's words, in English or in Turkish."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Source, Trigger

pytestmark = pytest.mark.django_db


def download(client: Client, made: Campaign, language: str) -> list[list[str]]:
    client.cookies["django_language"] = language
    response = client.get(reverse("analytics:campaign-csv", args=[made.pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def spring(admin_user) -> Campaign:
    return Campaign.objects.create(
        name="Spring offer", purpose="marketing", source=Source.GUESTS, trigger=Trigger.OPERATOR
    )


def test_an_english_speaker_gets_english_headings(client, admin_user, spring) -> None:
    client.force_login(admin_user)
    heading, first = download(client, spring, "en")[:2]
    assert heading[:2] == ["Row", "Name"]
    assert heading[2].startswith("Started (")
    assert heading[3:] == [
        "Recipients", "Skipped", "Sent", "Delivered", "Bounced", "Opened", "Clicked",
        "Unsubscribed", "Complained", "Cost (credits)", "Bookings", "Revenue",
    ]  # fmt: skip
    assert first[:2] == ["Campaign", "Spring offer"]


def test_a_turkish_speaker_gets_turkish_headings(client, admin_user, spring) -> None:
    client.force_login(admin_user)
    heading, first = download(client, spring, "tr")[:2]
    assert heading[:2] == ["Satır", "Ad"]
    assert heading[2].startswith("Başladı (")
    assert heading[3:] == [
        "Alıcılar", "Atlandı", "Gönderildi", "Teslim edildi", "Geri döndü", "Açıldı", "Tıklandı",
        "Abonelik iptal edildi", "Şikâyet etti", "Maliyet (kredi)", "Rezervasyonlar", "Gelir",
    ]  # fmt: skip
    assert first[:2] == ["Kampanya", "Spring offer"]
    assert not {"recipients", "skipped", "cost"} & set(heading)
