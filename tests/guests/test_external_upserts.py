"""Upserts keyed by another system's ids (I1): create, update, idempotent, through the front
desk's services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from guests import signals
from guests.models import (
    ConsentRecord,
    FacilityBooking,
    GreylistEntry,
    Guest,
    GuestExternalId,
    Hotel,
    Reservation,
    ReservationStatusChange,
)
from guests.selectors import guest_by_external_id
from guests.services import (
    CREATED,
    UNCHANGED,
    UPDATED,
    TransitionError,
    facility_booking_upsert,
    guest_merge,
    guest_upsert,
    reservation_upsert,
)
from tests.factories import BoardTypeFactory, FacilityFactory, RoomTypeFactory

pytestmark = pytest.mark.django_db
S = Reservation.Status


@pytest.fixture
def actor() -> Any:
    return get_user_model().objects.create_user("api-test", is_staff=False)


@pytest.fixture
def reference() -> None:
    RoomTypeFactory()
    BoardTypeFactory()


@pytest.fixture
def fired() -> Iterator[list[str]]:
    """The reservation signals sent, by name, in order."""
    names = {
        "created": signals.reservation_created,
        "modified": signals.reservation_modified,
        "checked_in": signals.reservation_checked_in,
        "checked_out": signals.reservation_checked_out,
        "cancelled": signals.reservation_cancelled,
        "no_show": signals.reservation_no_show,
    }
    seen: list[str] = []
    receivers = {}
    for name, signal in names.items():

        def receiver(*args: Any, _name: str = name, **kwargs: Any) -> None:
            seen.append(_name)

        receivers[name] = receiver
        signal.connect(receiver, weak=False, dispatch_uid=f"test-upsert-{name}")
    yield seen
    for name, signal in names.items():
        signal.disconnect(dispatch_uid=f"test-upsert-{name}")


def _guest(actor: Any, external_id: str = "G1", **data: Any) -> tuple[Guest, str]:
    return guest_upsert(
        source="mews",
        external_id=external_id,
        data={"first_name": "Ayşe", "last_name": "Yılmaz", **data},
        actor=actor,
        consent_source="api:Test PMS",
    )


def _stay(actor: Any, external_id: str = "R1", **data: Any) -> tuple[Reservation, str]:
    today = Hotel.load().business_date
    return reservation_upsert(
        source="mews",
        external_id=external_id,
        data={
            "booker": "G1",
            "arrival": today,
            "departure": today + dt.timedelta(days=3),
            "room_type": "STD",
            "board_type": "BB",
            **data,
        },
        actor=actor,
    )


def test_a_new_external_id_creates_the_guest_with_the_phone_read_in_the_hotels_region(
    actor: Any,
) -> None:
    guest, outcome = _guest(actor, phone="0532 123 45 67", email="AYSE@Example.com")

    assert outcome == CREATED
    guest.refresh_from_db()
    assert (guest.phone, guest.phone_valid) == ("+905321234567", True)
    assert guest.email == "AYSE@example.com".lower() or guest.email.endswith("@example.com")
    assert guest.source == Guest.Source.EXTERNAL
    assert guest_by_external_id(source="mews", external_id="G1") == guest


def test_the_same_guest_data_twice_changes_nothing_the_second_time(actor: Any) -> None:
    data = {"phone": "+90 532 123 45 67", "language": "tr", "nationality": "TR", "vip_level": 1}
    guest, _ = _guest(actor, **data)
    stamp = Guest.objects.get(pk=guest.pk).updated_at
    entries = LogEntry.objects.count()

    again, outcome = _guest(actor, **data)

    assert (again.pk, outcome) == (guest.pk, UNCHANGED)
    assert Guest.objects.get(pk=guest.pk).updated_at == stamp
    assert LogEntry.objects.count() == entries
    assert Guest.objects.count() == 1


def test_a_changed_field_updates_the_guest_and_keeps_who_in_the_history(actor: Any) -> None:
    guest, _ = _guest(actor)

    _, outcome = _guest(actor, last_name="Demir")

    assert outcome == UPDATED
    assert Guest.objects.get(pk=guest.pk).last_name == "Demir"
    entry = LogEntry.objects.filter(object_id=str(guest.pk)).latest("pk")
    assert entry.user == actor
    assert "last_name" in entry.change_message


def test_an_invalid_phone_is_a_field_error_and_writes_nothing(actor: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        _guest(actor, phone="12")

    assert "phone" in caught.value.message_dict
    assert not Guest.objects.exists()
    assert not GuestExternalId.objects.exists()


def test_an_unknown_field_is_refused_by_name(actor: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        _guest(actor, stay_count=9)

    assert "stay_count" in caught.value.message_dict
    assert not Guest.objects.exists()


def test_a_bad_source_or_empty_external_id_is_refused(actor: Any) -> None:
    for source, external_id, field in (("Mews!", "G1", "source"), ("mews", " ", "external_id")):
        with pytest.raises(ValidationError) as caught:
            guest_upsert(source=source, external_id=external_id, data={"first_name": "A"})
        assert field in caught.value.message_dict
    assert not Guest.objects.exists()


def test_consents_are_recorded_with_the_integrations_source_once(actor: Any) -> None:
    consents = [
        {"purpose": "marketing", "channel": "sms", "granted": True, "wording_version": "2026-1"},
        {"purpose": "data_processing", "channel": "", "granted": True, "wording_version": "2026-1"},
    ]
    guest, _ = _guest(actor, consents=consents)
    _, outcome = _guest(actor, consents=consents)

    records = ConsentRecord.objects.filter(guest=guest)
    assert outcome == UNCHANGED
    assert records.count() == 2
    assert {r.source for r in records} == {"api:Test PMS"}
    assert {r.wording_version for r in records} == {"2026-1"}
    assert {r.recorded_by for r in records} == {actor}

    _, outcome = _guest(
        actor, consents=[{"purpose": "marketing", "channel": "sms", "granted": False}]
    )
    assert outcome == UPDATED
    assert ConsentRecord.objects.filter(guest=guest).count() == 3


def test_a_consent_without_a_channel_for_marketing_is_refused(actor: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        _guest(actor, consents=[{"purpose": "marketing", "channel": "", "granted": True}])

    assert "channel" in caught.value.message_dict
    assert not Guest.objects.exists()


def test_the_greylist_is_set_once_and_lifted_by_null(actor: Any) -> None:
    guest, _ = _guest(actor, greylist={"reason": "Chargeback"})
    _, again = _guest(actor, greylist={"reason": "Chargeback"})
    assert again == UNCHANGED
    assert GreylistEntry.objects.active().filter(guest=guest).count() == 1

    _, lifted = _guest(actor, greylist=None)

    assert lifted == UPDATED
    assert not GreylistEntry.objects.active().filter(guest=guest).exists()


def test_merging_guests_keeps_both_external_ids_on_the_survivor(actor: Any) -> None:
    first, _ = _guest(actor, "G1")
    second, _ = _guest(actor, "G2")

    guest_merge(source=second, target=first, user=actor)

    assert guest_by_external_id(source="mews", external_id="G2") == first
    _, outcome = _guest(actor, "G2")
    assert outcome == UNCHANGED


def test_a_new_reservation_is_created_through_the_front_desks_service(
    actor: Any, reference: None, fired: list[str]
) -> None:
    _guest(actor)

    stay, outcome = _stay(actor)

    assert outcome == CREATED
    assert stay.status == S.CONFIRMED
    assert fired == ["created"]
    assert ReservationStatusChange.objects.get(reservation=stay).by == actor


def test_the_same_reservation_twice_changes_nothing_and_fires_nothing(
    actor: Any, reference: None, fired: list[str]
) -> None:
    _guest(actor)
    _stay(actor, status="checked_in")
    changes = ReservationStatusChange.objects.count()

    _, outcome = _stay(actor, status="checked_in")

    assert outcome == UNCHANGED
    assert fired == ["created", "checked_in"]
    assert ReservationStatusChange.objects.count() == changes


def test_status_moves_go_through_the_transitions_and_fire_their_signals(
    actor: Any, reference: None, fired: list[str]
) -> None:
    _guest(actor)
    stay, _ = _stay(actor)

    _, checked_in = _stay(actor, status="checked_in", room_number="204")
    _, checked_out = _stay(actor, status="checked_out", room_number="204")

    stay.refresh_from_db()
    assert (checked_in, checked_out) == (UPDATED, UPDATED)
    assert stay.status == S.CHECKED_OUT
    assert fired == ["created", "modified", "checked_in", "checked_out"]
    actions = list(stay.status_changes.order_by("pk").values_list("action", "by"))
    assert actions == [
        ("create", actor.pk),
        ("modify", actor.pk),
        ("check_in", actor.pk),
        ("check_out", actor.pk),
    ]
    assert Guest.objects.get(pk=stay.booker_id).stay_count == 1


def test_confirmed_to_checked_out_passes_through_check_in(
    actor: Any, reference: None, fired: list[str]
) -> None:
    _guest(actor)
    _stay(actor)

    stay, _ = _stay(actor, status="checked_out")

    assert stay.status == S.CHECKED_OUT
    assert fired == ["created", "checked_in", "checked_out"]


def test_an_illegal_move_raises_the_transition_error_and_changes_nothing(
    actor: Any, reference: None
) -> None:
    _guest(actor)
    stay, _ = _stay(actor, status="cancelled", cancel_reason="Changed plans")
    assert stay.status == S.CANCELLED

    for target in ("checked_in", "confirmed"):
        with pytest.raises(TransitionError) as caught:
            _stay(actor, status=target, adults=2)
        assert stay.number in str(caught.value)

    stay.refresh_from_db()
    assert (stay.status, stay.adults) == (S.CANCELLED, 1)


def test_a_check_in_before_the_arrival_day_is_refused_with_the_reason(
    actor: Any, reference: None
) -> None:
    _guest(actor)
    tomorrow = Hotel.load().business_date + dt.timedelta(days=1)

    with pytest.raises(TransitionError) as caught:
        _stay(
            actor,
            status="checked_in",
            arrival=tomorrow,
            departure=tomorrow + dt.timedelta(days=2),
        )

    assert "business date" in str(caught.value)
    assert not Reservation.objects.exists()


def test_a_past_stay_is_recorded_as_history_without_triggers(
    actor: Any, reference: None, fired: list[str]
) -> None:
    _guest(actor)
    last_year = Hotel.load().business_date - dt.timedelta(days=365)

    stay, outcome = _stay(
        actor, status="checked_out", arrival=last_year, departure=last_year + dt.timedelta(days=4)
    )

    assert outcome == CREATED
    assert stay.status == S.CHECKED_OUT
    assert fired == []
    assert stay.status_changes.get().action == "record"
    assert Guest.objects.get(pk=stay.booker_id).stay_count == 1


def test_companions_are_set_to_the_list_given(actor: Any, reference: None) -> None:
    _guest(actor)
    _guest(actor, "G2")
    _guest(actor, "G3")
    stay, _ = _stay(actor, companions=["G2"])
    assert [g.pk for g in stay.companions.all()] == [
        guest_by_external_id(source="mews", external_id="G2").pk
    ]  # type: ignore[union-attr]

    _, outcome = _stay(actor, companions=["G3"])
    _, again = _stay(actor, companions=["G3"])

    assert (outcome, again) == (UPDATED, UNCHANGED)
    assert [g.first_name for g in stay.companions.all()] == ["Ayşe"]
    assert stay.companions.get().external_ids.get().external_id == "G3"


def test_an_unknown_booker_or_room_type_is_a_field_error(actor: Any, reference: None) -> None:
    _guest(actor)
    for data, field in (({"booker": "nobody"}, "booker"), ({"room_type": "XXL"}, "room_type")):
        with pytest.raises(ValidationError) as caught:
            _stay(actor, **data)
        assert field in caught.value.message_dict
    assert not Reservation.objects.exists()


def test_a_facility_booking_is_upserted_and_moves_status_once(actor: Any, reference: None) -> None:
    FacilityFactory(name="Hamam")
    _guest(actor)
    _stay(actor)
    starts = timezone.now() + dt.timedelta(days=1)
    data = {"guest": "G1", "facility": "Hamam", "starts_at": starts, "reservation": "R1"}

    booking, created = facility_booking_upsert(
        source="mews", external_id="F1", data=data, actor=actor
    )
    _, unchanged = facility_booking_upsert(source="mews", external_id="F1", data=data, actor=actor)
    _, moved = facility_booking_upsert(
        source="mews", external_id="F1", data={**data, "party_size": 2}, actor=actor
    )
    _, attended = facility_booking_upsert(
        source="mews", external_id="F1", data={**data, "status": "attended"}, actor=actor
    )

    booking.refresh_from_db()
    assert (created, unchanged, moved, attended) == (CREATED, UNCHANGED, UPDATED, UPDATED)
    assert (booking.party_size, booking.status) == (2, FacilityBooking.Status.ATTENDED)
    with pytest.raises(TransitionError):
        facility_booking_upsert(
            source="mews", external_id="F1", data={"status": "cancelled"}, actor=actor
        )
