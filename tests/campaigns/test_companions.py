"""Companions are messaged too (seed 000: "to guests who check in"): a reservations campaign
writes to the booker, every adult of the stay, or each guest with a contact of his own — one
message per person, with his own dedupe key, language and consent."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.models import Recipients, Source, Trigger, TriggerEvent
from campaigns.occurrences import Occurrence
from campaigns.services import estimate, preview
from campaigns.triggers import trigger_event_process
from campaigns.validation import definition_errors
from channels_out.backends import locmem
from channels_out.models import OutboundMessage, SkipReason
from guests.models import ConsentPurpose
from guests.services import guest_record_consent, reservation_add_companion, reservation_check_in
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db


def _family(hotel, **booker):
    """A couple and their child checking in today; the child shares no phone."""
    booker.setdefault("phone", "+905321234567")
    father = GuestFactory(first_name="Murat", language="tr", **booker)
    stay = ReservationFactory(booker=father, arrival=hotel.business_date, adults=2, children=1)
    mother = GuestFactory(first_name="Julia", language="de", phone="+4915112345678")
    child = GuestFactory(
        first_name="Deniz",
        language="tr",
        phone="+905339876543",
        birth_date=hotel.business_date - dt.timedelta(days=365 * 9),
    )
    for companion in (mother, child):
        reservation_add_companion(reservation=stay, guest=companion)
    return stay, father, mother, child


@pytest.fixture
def welcome(make_campaign, top_up):
    top_up(100)
    return make_campaign(
        trigger=Trigger.CHECK_IN,
        recipients=Recipients.ADULTS,
        texts={"en": "Welcome, @NAME", "tr": "Hoş geldiniz @NAME", "de": "Willkommen, @NAME"},
    )


def test_every_adult_of_the_stay_gets_his_own_message_in_his_language(
    welcome, hotel, django_capture_on_commit_callbacks
) -> None:
    stay, father, mother, child = _family(hotel)
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=stay)
    assert sorted(m.body for m in locmem.outbox) == ["Hoş geldiniz Murat", "Willkommen, Julia"]
    rows = {m.guest_id: m for m in OutboundMessage.objects.all()}
    assert set(rows) == {father.pk, mother.pk}  # the nine-year-old is not an adult
    assert rows[mother.pk].reservation == stay and rows[mother.pk].language == "de"
    assert f":guest:{mother.pk}:" in rows[mother.pk].dedupe_key
    assert ":guest:" not in rows[father.pk].dedupe_key  # the booker's key is as before


def test_a_repeated_event_sends_nobody_anything_twice(
    welcome, hotel, django_capture_on_commit_callbacks
) -> None:
    stay, *_ = _family(hotel)
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=stay)
    event = TriggerEvent.objects.get()
    TriggerEvent.objects.filter(pk=event.pk).update(processed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        trigger_event_process(event.pk)
    assert OutboundMessage.objects.count() == 2


def test_each_guest_with_his_own_contact_and_no_one_sharing_an_address(
    make_campaign, top_up, hotel, django_capture_on_commit_callbacks
) -> None:
    top_up(100)
    make_campaign(
        trigger=Trigger.CHECK_IN, recipients=Recipients.OWN_CONTACT, texts={"en": "Hi @NAME"}
    )
    stay, father, mother, child = _family(hotel)
    sharer = GuestFactory(first_name="Ayla", phone=father.phone)  # the booker's phone
    silent = GuestFactory(first_name="Can", phone="", phone_valid=False)
    for companion in (sharer, silent):
        reservation_add_companion(reservation=stay, guest=companion)
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=stay)
    assert set(OutboundMessage.objects.values_list("guest_id", flat=True)) == {
        father.pk,
        mother.pk,
        child.pk,
    }


def test_consent_is_each_persons_own(make_campaign, top_up, hotel) -> None:
    top_up(100)
    offer = make_campaign(
        trigger=Trigger.OPERATOR,
        purpose=ConsentPurpose.MARKETING,
        recipients=Recipients.ADULTS,
        texts={"en": "Spa offer for @NAME"},
    )
    stay, father, mother, _child = _family(hotel)
    for guest in (father,):
        for purpose, channel in (
            (ConsentPurpose.DATA_PROCESSING, ""),
            (ConsentPurpose.MARKETING, "sms"),
        ):
            guest_record_consent(
                guest=guest, purpose=purpose, channel=channel, granted=True, source="staff"
            )
    cost = estimate(offer, Occurrence.operator(), record_ids=[stay.pk])
    assert cost.recipients == 1  # the booker said yes; his wife did not
    assert sum(cost.skipped.values()) == 1
    assert set(cost.skipped) <= {SkipReason.NO_CONSENT, SkipReason.NO_DATA_CONSENT}
    rows = preview(offer, Occurrence.operator(), record_ids=[stay.pk]).rows
    assert [(row.guest.first_name, bool(row.error)) for row in rows] == [
        ("Murat", False),
        ("Julia", True),
    ]
    assert not OutboundMessage.objects.exists()  # an estimate and a preview write nothing


def test_the_booker_alone_is_the_default(make_campaign, top_up, hotel) -> None:
    top_up(10)
    campaign = make_campaign(trigger=Trigger.OPERATOR, texts={"en": "Hi @NAME"})
    stay, *_ = _family(hotel)
    assert campaign.recipients == Recipients.BOOKER
    rows = preview(campaign, Occurrence.operator(), record_ids=[stay.pk]).rows
    assert [row.guest.first_name for row in rows] == ["Murat"]


def test_only_a_reservations_campaign_has_companions(make_campaign) -> None:
    guests = make_campaign(source=Source.GUESTS, recipients=Recipients.ADULTS)
    assert "reservations" in definition_errors(guests)["recipients"][0]
    assert "recipients" not in definition_errors(
        make_campaign(source=Source.RESERVATIONS, recipients=Recipients.OWN_CONTACT)
    )


def test_guest_filters_are_judged_on_each_person_and_the_estimate_is_the_send(
    make_campaign, top_up, hotel, django_capture_on_commit_callbacks
) -> None:
    """A German-speakers offer to every adult of the stay: the Turkish-speaking booker fails
    the language filter and gets nothing, his German wife passes and gets hers, the English
    friend fails, the German nine-year-old is no adult. A second stay whose booker passes and
    whose companion fails sends to the booker alone; a stay where nobody passes is not in the
    audience. The estimate counts exactly what the run then queues."""
    from campaigns.audiences import audience
    from campaigns.services import campaign_send

    top_up(100)
    offer = make_campaign(
        trigger=Trigger.OPERATOR,
        recipients=Recipients.ADULTS,
        languages=["de"],
        is_active=True,
        texts={"en": "Hi @NAME", "de": "Hallo @NAME"},
    )
    stay, father, mother, child = _family(hotel)
    child.language = "de"
    child.save(update_fields=["language"])
    friend = GuestFactory(first_name="Ann", language="en", phone="+447400123457")
    reservation_add_companion(reservation=stay, guest=friend)
    other = ReservationFactory(
        booker=GuestFactory(first_name="Hans", language="de", phone="+4915100000001"),
        arrival=hotel.business_date,
    )
    reservation_add_companion(
        reservation=other, guest=GuestFactory(language="tr", phone="+905330000001")
    )
    nobody = ReservationFactory(
        booker=GuestFactory(language="tr", phone="+905330000002"), arrival=hotel.business_date
    )
    ids = [stay.pk, other.pk, nobody.pk]
    occurrence = Occurrence.operator()

    assert set(audience(offer, occurrence).filter(pk__in=ids).values_list("pk", flat=True)) == {
        stay.pk,
        other.pk,
    }
    cost = estimate(offer, occurrence, record_ids=ids)
    rows = preview(offer, occurrence, record_ids=ids).rows
    assert cost.recipients == 2
    assert sorted(row.guest.first_name for row in rows) == ["Hans", "Julia"]

    with django_capture_on_commit_callbacks(execute=True):
        campaign_send(campaign=offer, user=None, record_ids=ids)
    sent = OutboundMessage.objects.filter(guest__isnull=False)
    assert sent.count() == cost.recipients
    assert {m.guest.first_name for m in sent} == {"Hans", "Julia"}
    assert sorted(m.body for m in locmem.outbox) == ["Hallo Hans", "Hallo Julia"]


def test_a_companion_sharing_the_phone_of_a_booker_who_fails_the_filters_gets_it(
    make_campaign, top_up, hotel
) -> None:
    """Each with his own contact: the address is "taken" only by someone written to."""
    top_up(100)
    offer = make_campaign(
        trigger=Trigger.OPERATOR,
        recipients=Recipients.OWN_CONTACT,
        languages=["de"],
        texts={"en": "Hi @NAME"},
    )
    stay, father, mother, _child = _family(hotel)
    sharer = GuestFactory(first_name="Lena", language="de", phone=father.phone)
    reservation_add_companion(reservation=stay, guest=sharer)
    rows = preview(offer, Occurrence.operator(), record_ids=[stay.pk]).rows
    assert sorted(row.guest.first_name for row in rows) == ["Julia", "Lena"]
    assert estimate(offer, Occurrence.operator(), record_ids=[stay.pk]).recipients == 2
