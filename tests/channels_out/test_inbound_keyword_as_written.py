"""A keyword is recognised by its folded form ("IPTAL") but recorded as the guest wrote it
("İptal", with the Turkish dotted capital İ): on the inbound message, in the consent record's
note, in the guest's timeline and in the ``message.inbound`` event — and keywords older
versions stored folded are read again from the message by the migration."""

from __future__ import annotations

import importlib
import itertools

import pytest
from django.apps import apps
from django.urls import reverse

from channels_out.backends import Inbound
from channels_out.models import InboundMessage
from channels_out.opt_out import folded
from channels_out.services import inbound_receive
from guests.models import ConsentRecord, Guest
from guests.services import guest_record_consent
from interfaces.webhooks.payloads import inbound_data
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("channels_out.migrations.0020_inbound_keyword_as_written")

_ids = itertools.count()


@pytest.fixture
def subscriber(db) -> Guest:
    guest = GuestFactory(language="tr", phone="+905321110021")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="sms", granted=True, source="staff"
    )
    return guest


def _reply(accounts, guest: Guest, body: str) -> InboundMessage:
    record = inbound_receive(
        account=accounts["sms"],
        inbound=Inbound(
            channel="sms",
            provider_message_id=f"KW{next(_ids)}",
            from_number=guest.phone,
            body=body,
        ),
    )
    assert record is not None
    return record


def _consents(guest: Guest) -> list[tuple[bool, str]]:
    return list(
        ConsentRecord.objects.filter(guest=guest, purpose="marketing", channel="sms")
        .order_by("recorded_at", "pk")
        .values_list("granted", "note")
    )


def test_the_guests_own_word_is_recorded_and_shown_the_folded_one_only_matches(
    accounts, subscriber, admin_client
) -> None:
    out = _reply(accounts, subscriber, "İptal!")
    back = _reply(accounts, subscriber, " Başla ")

    assert (out.keyword, back.keyword) == ("İptal", "Başla")
    assert (folded(out.keyword), folded(back.keyword)) == ("IPTAL", "BASLA")  # how they matched
    assert (out.opts_in, back.opts_in) == (False, True)
    assert _consents(subscriber) == [
        (True, ""),
        (False, "replied İptal to HOTEL"),
        (True, "replied Başla to HOTEL"),
    ]
    assert inbound_data(out)["inbound"]["keyword"] == "İptal"
    timeline = admin_client.get(reverse("guests:guest-detail", args=[subscriber.pk]))
    html = timeline.content.decode()
    assert '<span class="badge warn">İptal</span>' in html
    assert '<span class="badge warn">Başla</span>' in html
    assert "IPTAL" not in html and "BASLA" not in html


def test_a_word_of_combining_accents_is_cut_to_the_field_and_still_opts_out(
    accounts, subscriber
) -> None:
    written = "S" + "\u0308" * 30 + "TOP"  # folds to STOP, 34 characters
    record = _reply(accounts, subscriber, written)
    assert record.keyword == written[:20]
    assert [granted for granted, _ in _consents(subscriber)] == [True, False]


def test_keywords_stored_folded_before_are_read_again_as_written(accounts, subscriber) -> None:
    out = _reply(accounts, subscriber, "İptal.")
    plain = _reply(accounts, subscriber, "Merhaba")
    InboundMessage.objects.filter(pk=out.pk).update(keyword="IPTAL")  # as older versions stored

    migration.keywords_as_written(apps, None)  # ORM only: it needs no schema editor

    out.refresh_from_db()
    plain.refresh_from_db()
    assert (out.keyword, plain.keyword) == ("İptal", "")
    assert out.opts_in is False
