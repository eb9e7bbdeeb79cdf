"""A skipped message's detail (S5, S7) is stored in no language and read in the reader's: a
Turkish staff member reads the send log's reason and the event in Turkish, an English one in
English; details older versions stored in English are read the same way after the migration,
and a provider's own words are shown as they came."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from channels_out.models import DeliveryEvent, OutboundMessage, SkipReason, Status
from channels_out.services import Step, message_send
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("channels_out.migrations.0018_skip_detail_in_no_language")


def page(client, message: OutboundMessage, language: str) -> str:
    client.cookies["django_language"] = language
    return client.get(reverse("channels_out:message-detail", args=[message.pk])).content.decode()


def no_phone_sms() -> OutboundMessage:
    guest = GuestFactory(first_name="Ayşe", phone="", phone_valid=False)
    return message_send(steps=Step(channel="sms", text="Your room is ready."), guest=guest)


def test_a_guest_without_a_number_reads_in_turkish_and_in_english(
    client, operator, accounts
) -> None:
    message = no_phone_sms()
    assert message.skip_reason == SkipReason.NO_ADDRESS
    assert message.reason == "no SMS address"  # the API's and the export's English
    assert message.detail == {"msgid": "no %(channel)s address", "params": {"channel": "SMS"}}
    event = DeliveryEvent.objects.get(message=message, status=Status.SKIPPED)
    assert event.detail == message.detail

    turkish = page(client, message, "tr")
    assert "Bu kanal için adres yok" in turkish
    assert turkish.count("SMS adresi yok") == 2  # the reason and the event
    assert "no SMS address" not in turkish

    english = page(client, message, "en")
    assert "No address for this channel" in english
    assert english.count("no SMS address") == 2
    assert "SMS adresi yok" not in english


def test_the_front_desk_words_join_the_reason_and_the_detail_in_the_readers_language(
    accounts,
) -> None:
    message = no_phone_sms()
    with translation.override("tr"):
        assert message.skip_text == "Bu kanal için adres yok: SMS adresi yok"
    with translation.override("en"):
        assert message.skip_text == "No address for this channel: no SMS address"


def test_a_landline_and_a_bad_number_read_in_the_readers_language(
    client, operator, accounts
) -> None:
    landline = message_send(steps=Step(channel="sms", text="Hi", to="+902122345678"))
    bad = message_send(steps=Step(channel="sms", text="Hi", to="+90 12"))
    assert {landline.skip_reason, bad.skip_reason} == {SkipReason.INVALID_NUMBER}

    turkish = page(client, landline, "tr")
    assert "+902122345678 bir sabit hat numarası; mesaj alamaz" in turkish
    assert "cannot take messages" not in turkish
    assert "+902122345678 is a landline number and cannot take messages" in page(
        client, landline, "en"
    )

    turkish = page(client, bad, "tr")
    assert "“+90 12” geçerli bir telefon numarası değil:" in turkish
    assert "is not a valid phone number" not in turkish
    assert "“+90 12” is not a valid phone number:" in page(client, bad, "en")


def test_details_stored_in_english_before_are_read_in_turkish_after_the_migration(
    client, operator, accounts
) -> None:
    message = no_phone_sms()
    OutboundMessage.objects.filter(pk=message.pk).update(detail={})
    DeliveryEvent.objects.filter(message=message).update(detail={})
    assert "no SMS address" in page(client, message, "tr")  # readable before: as stored

    migration.read_old_details(apps, None)  # ORM only: it needs no schema editor

    turkish = page(client, message, "tr")
    assert turkish.count("SMS adresi yok") == 2 and "no SMS address" not in turkish


def test_a_providers_own_words_are_shown_as_they_came(client, operator, accounts) -> None:
    message = message_send(steps=Step(channel="sms", text="Hi", to="+905321234567"))
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.FAILED, skip_reason="", reason="Unknown subscriber", detail={}
    )
    turkish = page(client, message, "tr")
    assert '<q translate="no">Unknown subscriber</q>' in turkish


def test_a_message_without_credits_reads_in_the_readers_language(
    client, operator, accounts
) -> None:
    message = message_send(steps=Step(channel="sms", text="Hi", to="+905321234567"))
    assert message.skip_reason == SkipReason.NO_CREDITS
    assert message.reason == "cost 1 credit, balance 0"
    turkish, english = page(client, message, "tr"), page(client, message, "en")
    assert "maliyet 1 kredi, bakiye 0" in turkish and "kredi yetmiyor" not in turkish
    assert "cost 1 credit, balance 0" in english and "no credits: " not in english.lower()


def test_the_fallback_event_reads_in_the_readers_language(client, operator, accounts) -> None:
    guest = GuestFactory(first_name="Ayşe", email="", phone="+905321234567")
    first = message_send(
        steps=[
            Step(channel="email", subject="Room", text="Your room is ready."),
            Step(channel="sms", text="Your room is ready."),
        ],
        guest=guest,
    )
    assert first.skip_reason == SkipReason.NO_ADDRESS
    event = DeliveryEvent.objects.get(message=first, source="fallback")
    assert event.description == "falls back to SMS: no E-mail address"
    assert "SMS ile devam ediliyor: E-mail adresi yok" in page(client, first, "tr")
    assert "falls back to SMS: no E-mail address" in page(client, first, "en")


def test_a_consent_refusal_says_its_reason_once_in_the_readers_language(
    client, operator, accounts
) -> None:
    guest = GuestFactory(first_name="Ayşe", phone="+905321234567")
    message = message_send(
        steps=Step(channel="sms", text="Spring offer"), guest=guest, purpose="marketing"
    )
    assert (message.skip_reason, message.reason) == (SkipReason.NO_CONSENT, "no consent")
    with translation.override("tr"):
        label = str(message.get_skip_reason_display())
        assert message.skip_text == label and "no consent" not in label
    facts = page(client, message, "tr").split("<table")[0]  # the facts, above the events
    assert label in facts and "no consent" not in facts
