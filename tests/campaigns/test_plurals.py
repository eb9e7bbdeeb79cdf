"""Numbers read in the right form (QA1 item 10): "1 day before departure", "2 days…"; the
counter's "1 character · 1 part of 160 · cost 1 credit" and "2 parts … cost 2 credits" in
English; in Turkish one form after a number ("1 gün", "2 gün", "1 parça", "1 kredi")."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Timing, Trigger, timing_text
from crm_messaging.i18n import plural_count

from .test_screens_support import staff_user

pytestmark = pytest.mark.django_db


def _text(answer) -> str:
    assert answer.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.content.decode()))


@pytest.fixture
def front_desk(client) -> Client:
    client.force_login(staff_user("Front desk"))
    return client


def _counter(client: Client, text: str, language: str) -> str:
    client.cookies["django_language"] = language
    return _text(
        client.post(
            reverse("channels_out:meter"), {"text": text, "channel": "sms", "to": "+905321234567"}
        )
    )


def test_the_counter_says_one_part_and_one_credit_in_the_singular_and_in_turkish(
    front_desk, top_up
) -> None:
    top_up(10)
    one = _counter(front_desk, "H", "en")
    assert "1 character · GSM-7 · 1 part of 160 · 159 left in this part" in one
    assert re.search(r"cost 1 credit · balance 10\b", one)
    many = _counter(front_desk, "x" * 161, "en")
    assert "161 characters · GSM-7 · 2 parts of 153" in many
    assert "cost 2 credits · balance 10" in many
    assert "(s)" not in one + many

    # Turkish: one form after a number.
    one = _counter(front_desk, "H", "tr")
    assert "1 karakter · GSM-7 · 160 karakterlik 1 parça · bu parçada 159 karakter kaldı" in one
    assert "maliyet 1 kredi · bakiye 10" in one
    many = _counter(front_desk, "x" * 161, "tr")
    assert "161 karakter · GSM-7 · 153 karakterlik 2 parça" in many
    assert "maliyet 2 kredi" in many


def test_a_fraction_of_a_credit_reads_in_the_plural() -> None:
    assert [plural_count(Decimal(v)) for v in ("1", "1.00", "2", "0.5", "1.5", "0")] == [
        1,
        1,
        2,
        2,
        2,
        0,
    ]


def test_the_campaign_list_says_one_day_and_two_days(client, make_campaign) -> None:
    for name, offset in (("Eve", 1), ("Two days", 2)):
        make_campaign(
            name=name, trigger=Trigger.DAILY, timing=Timing.DAYS_BEFORE_DEPARTURE, offset=offset
        )
    client.force_login(staff_user("Marketing"))
    client.cookies["django_language"] = "en"
    english = _text(client.get(reverse("campaigns:campaign-list")))
    assert "1 day before departure" in english and "2 days before departure" in english
    assert "1 days" not in english
    client.cookies["django_language"] = "tr"
    turkish = _text(client.get(reverse("campaigns:campaign-list")))
    assert "Çıkıştan 1 gün önce" in turkish and "Çıkıştan 2 gün önce" in turkish


def test_every_timing_with_a_number_has_its_singular() -> None:
    for timing in Timing:
        if str(timing.label).startswith("N "):
            assert timing_text(timing, 1).startswith("1 ") and "N " not in timing_text(timing, 1)
            assert timing_text(timing, 1) != timing_text(timing, 2).replace("2 ", "1 ", 1)
