"""A message skipped because its template could not be rendered keeps the render error in no
language: the message page shows it in Turkish to a Turkish reader and in English to an
English one; the message's ``reason`` (the API's words) stays English."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.models import Timing, Trigger
from channels_out.models import DeliveryEvent, OutboundMessage, SkipReason, Status
from guests.services import night_audit_run
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def skipped(make_campaign, top_up, hotel, django_capture_on_commit_callbacks) -> OutboundMessage:
    top_up(10)
    make_campaign(
        trigger=Trigger.DAILY,
        timing=Timing.BIRTHDAY,
        source="guests",
        texts={"en": "Happy birthday @NAME! Your stay: @ARRIVAL"},
    )  # guests have no stay: render error
    today = hotel.business_date + dt.timedelta(days=1)
    GuestFactory(birth_date=today.replace(year=1990))
    with django_capture_on_commit_callbacks(execute=True):
        night_audit_run()
    message = OutboundMessage.objects.get()
    assert (message.status, message.skip_reason) == (Status.SKIPPED, SkipReason.RENDER_ERROR)
    return message


def test_the_render_error_is_stored_in_english_and_in_no_language(skipped) -> None:
    assert skipped.reason.startswith("unknown placeholder: ")
    assert skipped.detail["msgid"] == "%(reason)s (line %(line)s)"
    assert skipped.detail["params"]["reason"]["msgid"].startswith("unknown placeholder: %(error)s")
    event = DeliveryEvent.objects.get(message=skipped, status=Status.SKIPPED)
    assert event.detail == skipped.detail


def test_the_render_error_reads_in_the_readers_language(client, admin_user, skipped) -> None:
    client.force_login(admin_user)
    with translation.override("tr"):
        assert skipped.skip_detail_text.startswith("bilinmeyen yer tutucu: ")
    with translation.override("en"):
        assert skipped.skip_detail_text.startswith("unknown placeholder: ")

    url = reverse("channels_out:message-detail", args=[skipped.pk])
    client.cookies["django_language"] = "tr"
    turkish = client.get(url).content.decode()
    assert "bilinmeyen yer tutucu" in turkish
    assert "unknown placeholder" not in turkish
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    assert "unknown placeholder" in english
    assert "bilinmeyen yer tutucu" not in english
