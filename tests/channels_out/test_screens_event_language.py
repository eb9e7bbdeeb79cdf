"""Our own words on a message's events (an operator's decision, a retry, the sweeper's finding)
are stored in no language and read in the reader's: a Turkish operator reads them in Turkish
on the message page, an English one in English; the API keeps the English words."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from channels_out.backends import TransportError, locmem
from channels_out.models import DeliveryEvent, OutboundMessage, Status
from channels_out.services import Step, message_resend, message_send

pytestmark = pytest.mark.django_db
migration = importlib.import_module("channels_out.migrations.0021_event_words_in_no_language")


def page(client, message: OutboundMessage, language: str) -> str:
    client.cookies["django_language"] = language
    return client.get(reverse("channels_out:message-detail", args=[message.pk])).content.decode()


def test_a_resend_decision_reads_in_turkish_and_in_english(client, operator, unknown) -> None:
    message_resend(message=unknown, user=operator)
    unknown.refresh_from_db()
    assert unknown.reason == "not sent (operator); resent"  # the API's and the export's English
    assert unknown.detail == {"msgid": "not sent (operator); resent"}
    event = DeliveryEvent.objects.get(message=unknown, source="operator")
    assert event.description == "not sent (operator); resent"
    assert event.detail == unknown.detail

    turkish = page(client, unknown, "tr")
    assert "gönderilmedi (operatör); yeniden gönderildi" in turkish
    assert "not sent (operator); resent" not in turkish

    english = page(client, unknown, "en")
    assert "not sent (operator); resent" in english
    assert "yeniden gönderildi" not in english


def test_a_retry_keeps_the_providers_words_inside_ours(accounts, top_up, deliver_queued) -> None:
    top_up(10)
    message = message_send(steps=Step(channel="sms", text="Hello", to="+905321234567"))
    locmem.script(TransportError("busy", retry_after=30))
    deliver_queued()
    event = DeliveryEvent.objects.get(message=message, source="dispatch", status=Status.QUEUED)
    assert event.description == "attempt 1 failed (busy); retry in 30 s"
    with translation.override("tr"):
        assert event.description_text == "1. deneme başarısız (busy); 30 sn sonra yeniden denenecek"
    with translation.override("en"):
        assert event.description_text == "attempt 1 failed (busy); retry in 30 s"


def test_a_message_marked_failed_by_a_provider_keeps_no_detail_of_ours(
    accounts, top_up, deliver_queued
) -> None:
    top_up(10)
    message = message_send(steps=Step(channel="sms", text="Hello", to="+905321234567"))
    locmem.script(TransportError("The 'To' number is blocked.", permanent=True))
    deliver_queued()
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.detail == {}
    with translation.override("tr"):
        assert message.reason_text == "The 'To' number is blocked."


def test_a_decision_stored_in_english_before_reads_in_turkish_after_the_migration(
    client, operator, unknown
) -> None:
    message_resend(message=unknown, user=operator)
    OutboundMessage.objects.filter(pk=unknown.pk).update(detail={})
    DeliveryEvent.objects.filter(message=unknown).update(detail={})
    assert "not sent (operator); resent" in page(client, unknown, "tr")  # as stored, before

    migration.read_old_words(apps, None)  # ORM only: it needs no schema editor

    turkish = page(client, unknown, "tr")
    assert "gönderilmedi (operatör); yeniden gönderildi" in turkish
    assert "not sent (operator); resent" not in turkish
