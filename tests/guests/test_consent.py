"""Consent is append-only; the current state and the messaging rule derive from it (G6, G7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guests.models import AppendOnlyError, ConsentPurpose, ConsentRecord, Guest
from guests.selectors import (
    BLOCK_GREYLISTED,
    BLOCK_NO_CONSENT,
    BLOCK_NO_DATA_CONSENT,
    BLOCK_OPTED_OUT,
    consent_current,
    guest_block_reason,
    messageable_guests,
)
from guests.services import guest_greylist, guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db
MARKETING, SERVICE, DATA = (
    ConsentPurpose.MARKETING,
    ConsentPurpose.SERVICE,
    ConsentPurpose.DATA_PROCESSING,
)


def _say(
    guest: Guest, purpose: str, granted: bool, channel: str = "sms", minutes_ago: int = 0
) -> ConsentRecord:
    return guest_record_consent(
        guest=guest,
        purpose=purpose,
        channel="" if purpose == DATA else channel,
        granted=granted,
        source="staff",
        wording_version="2026-01",
        at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


def test_the_newest_statement_is_the_current_state() -> None:
    guest = GuestFactory()
    _say(guest, MARKETING, True, minutes_ago=10)
    withdrawn = _say(guest, MARKETING, False, minutes_ago=1)
    _say(guest, MARKETING, True, channel="email", minutes_ago=5)
    current = consent_current(guest)
    assert current[(MARKETING, "sms")] == withdrawn
    assert current[(MARKETING, "email")].granted is True
    assert (SERVICE, "sms") not in current


def test_records_cannot_be_changed_or_deleted() -> None:
    record = _say(GuestFactory(), MARKETING, True)
    record.granted = False
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    record.refresh_from_db()
    assert record.granted is True


@pytest.mark.parametrize(
    ("purpose", "channel", "field"),
    [
        (DATA, "sms", "channel"),
        (MARKETING, "", "channel"),
        (MARKETING, "pigeon", "channel"),
        ("gossip", "sms", "purpose"),
    ],
)
def test_a_statement_that_does_not_make_sense_is_refused(
    purpose: str, channel: str, field: str
) -> None:
    guest = GuestFactory()
    with pytest.raises(ValidationError) as caught:
        guest_record_consent(
            guest=guest, purpose=purpose, channel=channel, granted=True, source="staff"
        )
    assert field in caught.value.message_dict
    assert not ConsentRecord.objects.exists()


class TestMessagingRule:
    def test_marketing_needs_an_explicit_opt_in(self) -> None:
        guest = GuestFactory()
        assert guest_block_reason(guest, purpose=MARKETING, channel="sms") == BLOCK_NO_CONSENT
        _say(guest, MARKETING, True)
        assert guest_block_reason(guest, purpose=MARKETING, channel="sms") == ""
        assert guest_block_reason(guest, purpose=MARKETING, channel="email") == BLOCK_NO_CONSENT

    def test_an_opt_out_is_honoured_at_once(self) -> None:
        guest = GuestFactory()
        _say(guest, MARKETING, True, minutes_ago=60)
        _say(guest, MARKETING, False)
        assert guest_block_reason(guest, purpose=MARKETING, channel="sms") == BLOCK_OPTED_OUT

    def test_service_messages_go_unless_the_guest_opted_out(self) -> None:
        guest = GuestFactory()
        assert guest_block_reason(guest, purpose=SERVICE, channel="sms") == ""
        _say(guest, SERVICE, False)
        assert guest_block_reason(guest, purpose=SERVICE, channel="sms") == BLOCK_OPTED_OUT

    def test_withdrawn_data_processing_consent_stops_everything(self) -> None:
        guest = GuestFactory()
        _say(guest, MARKETING, True)
        _say(guest, DATA, False)
        assert guest_block_reason(guest, purpose=MARKETING, channel="sms") == BLOCK_NO_DATA_CONSENT
        assert guest_block_reason(guest, purpose=SERVICE, channel="sms") == BLOCK_NO_DATA_CONSENT

    def test_greylist_blocks_marketing_but_not_service(self) -> None:
        guest = GuestFactory()
        _say(guest, MARKETING, True)
        guest_greylist(guest=guest, reason="chargeback")
        assert guest_block_reason(guest, purpose=MARKETING, channel="sms") == BLOCK_GREYLISTED
        assert guest_block_reason(guest, purpose=SERVICE, channel="sms") == ""

    def test_the_same_rule_filters_a_whole_queryset(self) -> None:
        opted_in, silent, opted_out = GuestFactory(), GuestFactory(), GuestFactory()
        _say(opted_in, MARKETING, True)
        _say(opted_out, MARKETING, True, minutes_ago=5)
        _say(opted_out, MARKETING, False)
        marketing = messageable_guests(Guest.objects.all(), purpose=MARKETING, channel="sms")
        service = messageable_guests(Guest.objects.all(), purpose=SERVICE, channel="sms")
        assert set(marketing) == {opted_in}
        assert set(service) == {
            opted_in,
            silent,
            opted_out,
        }  # a marketing opt-out leaves service messages
