"""A guest answering an opt-out word in his language is opted out of marketing on that
channel at once, an opt-in word opts him back in, anything else is just a message (S6)."""

from __future__ import annotations

import itertools

import pytest

from channels_out.backends import Inbound
from channels_out.models import InboundMessage
from channels_out.services import inbound_receive
from guests.models import ConsentRecord, Guest
from guests.services import guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

_ids = itertools.count()


def _reply(accounts, guest: Guest, body: str) -> InboundMessage | None:
    return inbound_receive(
        account=accounts["sms"],
        inbound=Inbound(
            channel="sms",
            provider_message_id=f"IN{next(_ids)}",
            from_number=guest.phone,
            body=body,
        ),
    )


def _marketing_sms_consent(guest: Guest) -> list[bool]:
    return list(
        ConsentRecord.objects.filter(guest=guest, purpose="marketing", channel="sms")
        .order_by("recorded_at", "pk")
        .values_list("granted", flat=True)
    )


@pytest.fixture
def subscriber(db) -> Guest:
    guest = GuestFactory(language="tr")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="sms", granted=True, source="staff"
    )
    return guest


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("RET", "RET"),
        ("ret", "ret"),
        ("İptal", "İptal"),
        ("İPTAL", "İPTAL"),
        ("iptal!", "iptal"),
        ("IPTAL", "IPTAL"),
        ("ıptal", "ıptal"),
        (" СТОП. ", "СТОП"),
        ("стоп", "стоп"),
        ("Abmelden", "Abmelden"),
        ("STOP", "STOP"),
    ],
)
def test_an_opt_out_word_in_any_guest_language_opts_the_guest_out(
    accounts, subscriber, body, keyword
) -> None:
    record = _reply(accounts, subscriber, body)
    assert record is not None and record.keyword == keyword
    assert _marketing_sms_consent(subscriber) == [True, False]


@pytest.mark.parametrize("body", ["BAŞLA", "başla", "Basla", "START", "старт"])
def test_an_opt_in_word_opts_the_guest_back_in(accounts, subscriber, body) -> None:
    _reply(accounts, subscriber, "RET")
    _reply(accounts, subscriber, body)
    assert _marketing_sms_consent(subscriber) == [True, False, True]


@pytest.mark.parametrize(
    "body", ["Rezervasyonumu iptal etmek istiyorum", "RETRO", "Stop by the bar?", "Спасибо"]
)
def test_a_message_that_is_not_a_keyword_changes_no_consent(accounts, subscriber, body) -> None:
    record = _reply(accounts, subscriber, body)
    assert record is not None and record.keyword == ""
    assert _marketing_sms_consent(subscriber) == [True]
