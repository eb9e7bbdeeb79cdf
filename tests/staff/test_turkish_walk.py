"""Every staff screen in Turkish, with the demo hotel and a day's traffic on it: no English-only
word and no raw code (``front_desk``, ``fallback``, ``operator:2026-…``, a status's stored value)
on any of them. New screens without an id are walked by themselves; a new one with an id must
say here which row to open it for (``turkish_walk.screens``) or why it is not a screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.staff import turkish_walk
from tests.staff.turkish_walk import (
    EDITOR_PANELS,
    NOT_SCREENS,
    Checker,
    Demo,
    form_data,
    screens,
    visible_text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker) -> Iterator[Demo]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield turkish_walk.seed_demo_with_history()
        transaction.set_rollback(True)


@pytest.fixture
def turkish(client: Client, demo: Demo) -> Client:
    client.force_login(get_user_model().objects.get(username="demo"))
    client.cookies["django_language"] = "tr"
    return client


def test_every_staff_url_is_walked_or_said_why_not(demo: Demo) -> None:
    walked = {name.split(" ")[0] for name, _path in screens(demo)}
    names = turkish_walk.staff_url_names()

    assert names - walked - set(NOT_SCREENS) == set()
    assert set(NOT_SCREENS) <= names, "a name listed as not a screen no longer exists"


def test_every_staff_screen_in_turkish_has_no_english_words_or_raw_codes(
    turkish: Client, demo: Demo
) -> None:
    checker = Checker()
    findings = []
    opened = 0
    editor = turkish.get(reverse("campaigns:campaign-edit", args=[demo.campaign])).content.decode()
    for name, path in screens(demo):
        if name in EDITOR_PANELS:
            response = turkish.post(path, form_data(editor, "campaign-form"))
        else:
            response = turkish.get(path)
        assert response.status_code == 200, (name, path, response.status_code)
        assert response["Content-Language"] == "tr", name
        findings += checker.check(name, visible_text(response.content.decode()))
        opened += 1
    counter = turkish.post(reverse("channels_out:meter"), {"text": "x" * 200, "channel": "sms"})
    findings += checker.check("channels_out:meter", visible_text(counter.content.decode()))

    assert opened >= 30
    assert not findings, "\n".join(str(f) for f in findings)


def test_the_sign_in_pages_are_turkish_too(client: Client, demo: Demo) -> None:
    client.cookies["django_language"] = "tr"
    checker = Checker()
    findings = []
    for name in turkish_walk.ANONYMOUS_SCREENS:
        response = client.get(reverse(name))
        assert response.status_code == 200
        findings += checker.check(name, visible_text(response.content.decode()))

    assert not findings, "\n".join(str(f) for f in findings)


def test_the_issues_examples_read_in_turkish(turkish: Client, demo: Demo) -> None:
    """The words staff reported: "To" as the recipient (not "Bitiş", the end date), a skip
    reason in one language, sources and origins in words."""
    from campaigns.models import CampaignRun

    history = turkish.get(reverse("guests:reservation-messages", args=[demo.reservation]))
    log = turkish.get(reverse("channels_out:message-list"))
    runs = turkish.get(reverse("campaigns:campaign-runs", args=[demo.operator_campaign]))
    history_text, log_text = (
        visible_text(history.content.decode()),
        visible_text(log.content.decode()),
    )

    assert "Alıcı" in history_text and "Bitiş" not in history_text
    assert "İzin yok" in log_text and "İzin yok:" not in log_text
    assert "ön büro" in log_text and "front_desk" not in log_text
    run = CampaignRun.objects.get(pk=demo.run)
    runs_text = visible_text(runs.content.decode())
    assert run.occurrence not in runs_text
    assert f"{timezone.localtime(run.started_at):%d.%m.%Y}" in runs_text
