"""The live counter under every message box (S4, S8)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from channels_out.meter import message_meter

pytestmark = pytest.mark.django_db


def test_a_cyrillic_text_shows_ucs2_parts_the_forcing_characters_and_the_cost(top_up) -> None:
    top_up(5)
    meter = message_meter(text="Привет! " * 10, channel="sms", to="+79123456789")
    assert (meter["info"].encoding, meter["parts"], meter["cost"], meter["country"]) == (
        "UCS-2",
        2,
        2,
        "RU",
    )
    assert meter["info"].ucs2_chars[:3] == ("П", "р", "и")
    assert not meter["short"]


def test_the_counter_says_when_the_balance_is_short(client, django_user_model) -> None:
    user = django_user_model.objects.create_user("fd")
    user.user_permissions.add(Permission.objects.get(codename="send_one_off"))
    client.force_login(user)
    answer = client.post(
        reverse("channels_out:meter"), {"text": "ş" * 71, "channel": "sms", "to": "+905321234567"}
    )
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "UCS-2" in html and "2 parts of 67" in html
    assert "<kbd>ş</kbd>" in html
    assert "does not cover" in html


def test_the_counter_needs_a_login(client) -> None:
    assert client.post(reverse("channels_out:meter"), {"text": "x"}).status_code == 302
