"""The Django admin of the CRM core: every page opens, lists stay cheap, writes go through services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.messages import ERROR, SUCCESS
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guests import services
from guests.models import (
    Agency,
    BoardType,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    ConsentWording,
    ContactChannel,
    Facility,
    FacilityBooking,
    FacilityType,
    GreylistEntry,
    Guest,
    GuestMerge,
    Hotel,
    LoyaltyTier,
    MarketSegment,
    NightAudit,
    Reservation,
    ReservationCompanion,
    ReservationStatusChange,
    RoomType,
    SourceChannel,
    StayType,
)
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db

# Models with an add page; the audit models and the single hotel row have none.
ADDABLE = [
    Agency,
    BoardType,
    ConsentRecord,
    ConsentWording,
    Facility,
    FacilityBooking,
    FacilityType,
    GreylistEntry,
    Guest,
    LoyaltyTier,
    MarketSegment,
    Reservation,
    RoomType,
    SourceChannel,
    StayType,
]
READ_ONLY = [GuestMerge, NightAudit, ReservationStatusChange, Hotel]


def url(model: type[Model] | Model, view: str, *args: Any) -> str:
    return reverse(f"admin:guests_{model._meta.model_name}_{view}", args=args)


def run_action(client, model: type[Model], action: str, *pks: int) -> list[tuple[int, str]]:
    """Run a changelist action and return the messages the changelist then shows."""
    response = client.post(
        url(model, "changelist"), {"action": action, "_selected_action": list(pks)}, follow=True
    )
    assert response.redirect_chain, "the action should answer with a redirect to the list"
    assert response.status_code == 200
    return [(m.level, m.message) for m in response.context["messages"]]


def inline_management(response) -> dict[str, Any]:
    """The management-form fields of every inline on a rendered change form."""
    data: dict[str, Any] = {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


def guest_form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "first_name": "Ayşe",
        "last_name": "Yılmaz",
        "email": "ayse@example.com",
        "phone": "",
        "language": "en",
        "nationality": "TR",
        "birth_date": "",
        "gender": "",
        "vip_level": "0",
        "loyalty_tier": "",
        "loyalty_number": "",
        "outstanding_balance": "0.00",
        "notes": "",
        "preferences": "",
        "allergens": "",
        "warning_note": "",
        "source": "staff",
    }
    data.update(overrides)
    return data


@pytest.fixture
def populated(reference_data: None, hotel: Hotel, admin_user) -> dict[str, Model]:
    """One row of every kind, written the way the application writes them."""
    booker = GuestFactory(warning_note="Left without paying the minibar in 2023.")
    companion = GuestFactory()
    duplicate = GuestFactory(first_name=booker.first_name, last_name=booker.last_name)
    services.guest_record_consent(
        guest=booker,
        purpose=ConsentPurpose.DATA_PROCESSING,
        granted=True,
        source=ConsentSource.BOOKING,
    )
    consent = services.guest_record_consent(
        guest=booker,
        purpose=ConsentPurpose.MARKETING,
        channel=ContactChannel.SMS,
        granted=True,
        source=ConsentSource.STAFF,
        user=admin_user,
    )
    greylist = services.guest_greylist(guest=companion, reason="Abusive to staff", user=admin_user)
    reservation = services.reservation_create(
        booker=booker,
        arrival=hotel.business_date,
        departure=hotel.business_date + dt.timedelta(days=3),
        room_type=RoomType.objects.get(code="STD"),
        board_type=BoardType.objects.get(code="BB"),
        agency=Agency.objects.first(),
        source_channel=SourceChannel.objects.first(),
        companions=[companion],
        nightly_rate=Decimal("90.00"),
        user=admin_user,
    )
    booking = services.facility_booking_create(
        guest=booker,
        facility=Facility.objects.first(),
        starts_at=timezone.now() + dt.timedelta(days=1),
        reservation=reservation,
    )
    merge = services.guest_merge(source=duplicate, target=booker, user=admin_user)
    audit = NightAudit.objects.create(
        business_date=hotel.business_date - dt.timedelta(days=1), arrivals=3
    )
    wording = ConsentWording.objects.create(
        purpose=ConsentPurpose.MARKETING,
        version="2024-1",
        language="en",
        text="We may send you offers.",
    )
    rows: dict[str, Model] = {
        "guest": booker,
        "consentrecord": consent,
        "greylistentry": greylist,
        "reservation": reservation,
        "reservationstatuschange": reservation.status_changes.first(),
        "facilitybooking": booking,
        "guestmerge": merge,
        "nightaudit": audit,
        "consentwording": wording,
        "hotel": hotel,
    }
    for model in (
        Agency,
        BoardType,
        Facility,
        FacilityType,
        LoyaltyTier,
        MarketSegment,
        RoomType,
        SourceChannel,
        StayType,
    ):
        rows[model._meta.model_name] = model.objects.first()
    return rows


# --- Every page opens --------------------------------------------------------------------------


def test_every_model_of_the_guests_app_is_in_the_admin() -> None:
    registered = {model for model in admin.site._registry if model._meta.app_label == "guests"}
    # Companions are edited on their reservation, never on their own.
    assert registered == set(ADDABLE) | set(READ_ONLY)
    assert ReservationCompanion not in registered


@pytest.mark.parametrize("model", ADDABLE + READ_ONLY, ids=lambda m: m._meta.model_name)
def test_the_changelist_and_a_change_page_open(admin_client, populated, model) -> None:
    changelist = admin_client.get(url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1
    row = populated[model._meta.model_name]
    assert admin_client.get(url(model, "change", row.pk)).status_code == 200


@pytest.mark.parametrize("model", ADDABLE, ids=lambda m: m._meta.model_name)
def test_the_add_page_opens(admin_client, populated, model) -> None:
    assert admin_client.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m._meta.model_name)
def test_audit_records_and_the_existing_hotel_have_no_add_page(
    admin_client, populated, model
) -> None:
    assert admin_client.get(url(model, "add")).status_code == 403


def test_the_hotel_can_be_added_only_while_there_is_none(admin_client, db) -> None:
    assert not Hotel.objects.exists()
    assert admin_client.get(url(Hotel, "add")).status_code == 200


def test_every_changelist_search_runs(admin_client, populated) -> None:
    for model in ADDABLE + READ_ONLY:
        response = admin_client.get(url(model, "changelist"), {"q": "R0000001 0532 123 45 67"})
        assert response.status_code == 200, model


# --- Lists stay cheap --------------------------------------------------------------------------


def _make_guests(count: int, tier: LoyaltyTier) -> None:
    for n in range(count):
        guest = GuestFactory(loyalty_tier=tier, warning_note="Check ID" if n % 2 else "")
        GreylistEntry.objects.create(guest=guest, reason="test")
        if n % 3 == 0:
            Guest.objects.filter(pk=guest.pk).update(phone="12ab", phone_valid=False)


def test_the_guest_changelist_runs_the_same_queries_for_5_and_30_guests(
    admin_client, reference_data, hotel, django_assert_max_num_queries
) -> None:
    tier = LoyaltyTier.objects.first()
    changelist = url(Guest, "changelist")
    _make_guests(5, tier)
    with django_assert_max_num_queries(17) as five:
        response = admin_client.get(changelist)
    assert response.context["cl"].result_count == 5

    _make_guests(25, tier)
    with django_assert_max_num_queries(17) as thirty:
        response = admin_client.get(changelist)
    assert response.context["cl"].result_count == 30
    assert len(thirty.captured_queries) == len(five.captured_queries)


def test_the_reservation_changelist_runs_the_same_queries_for_2_and_12_stays(
    admin_client, hotel
) -> None:
    changelist = url(Reservation, "changelist")
    ReservationFactory.create_batch(2)
    with CaptureQueriesContext(_connection()) as few:
        assert admin_client.get(changelist).status_code == 200
    ReservationFactory.create_batch(10)
    with CaptureQueriesContext(_connection()) as many:
        response = admin_client.get(changelist)
    assert response.context["cl"].result_count == 12
    assert len(many.captured_queries) == len(few.captured_queries)


def _connection():
    from django.db import connection

    return connection


# --- Guest profile -----------------------------------------------------------------------------


def test_the_guest_list_shows_the_phone_formatted_and_marks_an_invalid_one(
    admin_client, hotel
) -> None:
    GuestFactory(first_name="Valid", phone="+905321234567")
    broken = GuestFactory(first_name="Broken")
    Guest.objects.filter(pk=broken.pk).update(phone="12ab", phone_valid=False)
    content = admin_client.get(url(Guest, "changelist")).content.decode()
    assert "+90 532 123 45 67" in content
    assert "12ab" in content
    assert ">invalid</strong>" in content
    assert content.count(">invalid</strong>") == 1


def test_the_guest_page_shows_the_warning_note_and_the_current_consent(
    admin_client, populated
) -> None:
    guest = populated["guest"]
    response = admin_client.get(url(Guest, "change", guest.pk))
    content = response.content.decode()
    assert "⚠ Left without paying the minibar in 2023." in content
    assert response.context["adminform"].form.fields  # the profile stays editable
    fieldsets = [name for name, _ in response.context["adminform"].fieldsets]
    assert fieldsets[0] == "Warning"
    assert "Marketing messages" in content and "granted" in content
    consent_inline = next(
        inline
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is ConsentRecord
    )
    assert consent_inline.has_add_permission is False
    assert consent_inline.has_change_permission is False
    assert consent_inline.has_delete_permission is False
    assert len(consent_inline.formset.forms) == 2


def test_adding_a_guest_stores_the_phone_in_e164(admin_client, hotel) -> None:
    response = admin_client.post(url(Guest, "add"), guest_form_data(phone="0532 123 45 67"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    guest = Guest.objects.get()
    assert guest.phone == "+905321234567"
    assert guest.phone_valid is True


def test_adding_a_guest_with_an_unreadable_phone_shows_the_error_by_the_field(
    admin_client, hotel
) -> None:
    response = admin_client.post(url(Guest, "add"), guest_form_data(phone="12ab"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"phone"}
    assert "“12ab” is not a valid phone number" in errors["phone"][0]
    assert not Guest.objects.exists()


def test_adding_a_guest_with_a_malformed_email_shows_the_error_by_the_field(
    admin_client, hotel
) -> None:
    response = admin_client.post(url(Guest, "add"), guest_form_data(email="ayse@"))
    assert set(response.context["adminform"].form.errors) == {"email"}
    assert not Guest.objects.exists()


def test_changing_the_email_drops_its_verified_mark(admin_client, hotel) -> None:
    guest = GuestFactory(
        email="old@example.com", email_verified=True, language="en", nationality="GB"
    )
    data = guest_form_data(
        first_name=guest.first_name,
        last_name=guest.last_name,
        email="new@example.com",
        phone=guest.phone,
        nationality="GB",
    )
    data.pop("source")  # read-only once the profile exists
    data.update(inline_management(admin_client.get(url(Guest, "change", guest.pk))))
    response = admin_client.post(url(Guest, "change", guest.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    guest.refresh_from_db()
    assert guest.email == "new@example.com"
    assert guest.email_verified is False


def test_editing_a_guest_keeps_an_imported_unreadable_phone_until_staff_change_it(
    admin_client, hotel
) -> None:
    guest = services.guest_create(first_name="Imported", phone="12ab", strict_phone=False)
    data = guest_form_data(
        first_name="Imported", last_name="", email="", phone="12ab", notes="Late arrival"
    )
    data.pop("source")
    data.update(inline_management(admin_client.get(url(Guest, "change", guest.pk))))
    response = admin_client.post(url(Guest, "change", guest.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    guest.refresh_from_db()
    assert (guest.phone, guest.phone_valid, guest.notes) == ("12ab", False, "Late arrival")


def test_the_guest_search_finds_a_phone_typed_the_local_way(admin_client, hotel) -> None:
    wanted = GuestFactory(phone="+905321234567")
    GuestFactory(phone="+905339876543")
    response = admin_client.get(url(Guest, "changelist"), {"q": "0532 123 45 67"})
    assert [guest.pk for guest in response.context["cl"].result_list] == [wanted.pk]


# --- Merge -------------------------------------------------------------------------------------


def test_the_merge_action_merges_the_selected_guests_into_the_oldest(admin_client, hotel) -> None:
    oldest = GuestFactory(created_at=timezone.now() - dt.timedelta(days=400), email="")
    newer = GuestFactory(email="same.person@example.com")
    stay = ReservationFactory(booker=newer)
    services.guest_record_consent(
        guest=newer,
        purpose=ConsentPurpose.DATA_PROCESSING,
        granted=True,
        source=ConsentSource.BOOKING,
    )
    shown = run_action(admin_client, Guest, "merge_into_oldest", newer.pk, oldest.pk)
    assert list(Guest.objects.values_list("pk", flat=True)) == [oldest.pk]
    stay.refresh_from_db()
    assert stay.booker_id == oldest.pk
    assert oldest.consent_records.count() == 1
    oldest.refresh_from_db()
    assert oldest.email == "same.person@example.com"
    merge = GuestMerge.objects.get()
    assert (merge.target_id, merge.source_guest_id) == (oldest.pk, newer.pk)
    [(level, text)] = shown
    assert level == SUCCESS
    assert f"into {oldest} (#{oldest.pk})" in text
    assert "moved 1 consent record, 1 reservation" in text


def test_the_merge_action_refuses_a_single_guest(admin_client, hotel) -> None:
    guest = GuestFactory()
    shown = run_action(admin_client, Guest, "merge_into_oldest", guest.pk)
    assert Guest.objects.filter(pk=guest.pk).exists()
    assert not GuestMerge.objects.exists()
    assert shown == [(ERROR, "Select at least two guests to merge.")]


# --- Consent -----------------------------------------------------------------------------------


def test_the_consent_changelist_offers_no_delete(admin_client, populated) -> None:
    response = admin_client.get(url(ConsentRecord, "changelist"))
    assert response.status_code == 200
    action_form = response.context["action_form"]
    actions = [name for name, _ in action_form.fields["action"].choices] if action_form else []
    assert "delete_selected" not in actions
    assert 'value="delete_selected"' not in response.content.decode()
    record = populated["consentrecord"]
    assert (
        admin_client.post(url(ConsentRecord, "delete", record.pk), {"post": "yes"}).status_code
        == 403
    )
    assert ConsentRecord.objects.filter(pk=record.pk).exists()


def test_a_consent_record_cannot_be_changed_from_its_page(admin_client, populated) -> None:
    record = populated["consentrecord"]
    page = admin_client.get(url(ConsentRecord, "change", record.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(
        url(ConsentRecord, "change", record.pk),
        {
            "guest": record.guest_id,
            "purpose": record.purpose,
            "channel": record.channel,
            "granted": "False",
            "wording_version": "",
            "note": "changed",
        },
    )
    assert response.status_code == 403
    record.refresh_from_db()
    assert (record.granted, record.note) == (True, "")
    assert ConsentRecord.objects.count() == 2


def test_recording_consent_in_the_admin_appends_a_staff_statement(
    admin_client, admin_user, populated
) -> None:
    guest = populated["guest"]
    response = admin_client.post(
        url(ConsentRecord, "add"),
        {
            "guest": guest.pk,
            "purpose": ConsentPurpose.MARKETING,
            "channel": ContactChannel.SMS,
            "granted": "False",
            "wording_version": "2024-1",
            "note": "asked at the desk",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    newest = guest.consent_records.first()
    assert (newest.granted, newest.source, newest.recorded_by) == (
        False,
        ConsentSource.STAFF,
        admin_user,
    )
    assert guest.consent_records.count() == 3  # appended, the earlier statement is kept


def test_recording_marketing_consent_without_a_channel_is_refused_by_the_field(
    admin_client, populated
) -> None:
    guest = populated["guest"]
    response = admin_client.post(
        url(ConsentRecord, "add"),
        {"guest": guest.pk, "purpose": ConsentPurpose.MARKETING, "channel": "", "granted": "True"},
    )
    assert set(response.context["adminform"].form.errors) == {"channel"}
    assert guest.consent_records.count() == 2


# --- Greylist ----------------------------------------------------------------------------------


def test_greylisting_and_lifting_in_the_admin(admin_client, admin_user, hotel) -> None:
    guest = GuestFactory()
    response = admin_client.post(
        url(GreylistEntry, "add"), {"guest": guest.pk, "reason": "Chargeback"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = GreylistEntry.objects.get()
    assert (entry.guest, entry.created_by, entry.is_active()) == (guest, admin_user, True)

    admin_client.get(url(GreylistEntry, "changelist"))  # shows, and so clears, the "added" message

    shown = run_action(admin_client, GreylistEntry, "lift", entry.pk)
    entry.refresh_from_db()
    assert entry.lifted_by == admin_user
    assert entry.is_active() is False
    assert shown == [(SUCCESS, "Lifted 1 greylist entry.")]

    lifted_at = entry.lifted_at
    shown = run_action(admin_client, GreylistEntry, "lift", entry.pk)
    assert shown == [(ERROR, f"{entry}: This greylist entry is no longer in force.")]
    entry.refresh_from_db()
    assert entry.lifted_at == lifted_at


def test_a_greylist_expiry_in_the_past_is_refused_by_the_field(admin_client, hotel) -> None:
    guest = GuestFactory()
    yesterday = timezone.localtime() - dt.timedelta(days=1)
    response = admin_client.post(
        url(GreylistEntry, "add"),
        {
            "guest": guest.pk,
            "reason": "Chargeback",
            "expires_at_0": yesterday.strftime("%Y-%m-%d"),
            "expires_at_1": "12:00:00",
        },
    )
    assert set(response.context["adminform"].form.errors) == {"expires_at"}
    assert not GreylistEntry.objects.exists()


def test_a_refusal_only_the_service_sees_undoes_the_whole_save(
    admin_client, hotel, monkeypatch
) -> None:
    guest = GuestFactory()
    greylist = services.guest_greylist

    def write_then_refuse(**kwargs: Any) -> GreylistEntry:
        greylist(**kwargs)
        raise ValidationError("Another user greylisted this guest a moment ago.")

    monkeypatch.setattr(services, "guest_greylist", write_then_refuse)
    add = url(GreylistEntry, "add")
    response = admin_client.post(add, {"guest": guest.pk, "reason": "Chargeback"}, follow=True)
    assert response.redirect_chain == [(add, 302)]
    shown = [(m.level, m.message) for m in response.context["messages"]]
    assert shown == [(ERROR, "Another user greylisted this guest a moment ago.")]
    assert not GreylistEntry.objects.exists()


# --- Reservations ------------------------------------------------------------------------------


def test_the_check_in_action_checks_in_todays_arrival(admin_client, admin_user, hotel) -> None:
    today = ReservationFactory(arrival=hotel.business_date)
    shown = run_action(admin_client, Reservation, "check_in", today.pk)
    today.refresh_from_db()
    assert today.status == Reservation.Status.CHECKED_IN
    assert today.checked_in_at is not None
    assert today.status_changes.get().by == admin_user
    assert shown == [(SUCCESS, "1 reservation checked in.")]


def test_the_check_in_action_refuses_a_future_arrival_and_leaves_it_confirmed(
    admin_client, hotel
) -> None:
    today = ReservationFactory(arrival=hotel.business_date)
    future = ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=2))
    shown = run_action(admin_client, Reservation, "check_in", today.pk, future.pk)
    future.refresh_from_db()
    assert future.status == Reservation.Status.CONFIRMED
    assert future.checked_in_at is None
    assert not future.status_changes.exists()
    today.refresh_from_db()
    assert today.status == Reservation.Status.CHECKED_IN
    errors = [text for level, text in shown if level == ERROR]
    assert len(errors) == 1
    assert f"Reservation {future.number} arrives on" in errors[0]


def test_the_check_out_cancel_and_no_show_actions_go_through_the_services(
    admin_client, hotel
) -> None:
    in_house = ReservationFactory(arrival=hotel.business_date, status=Reservation.Status.CHECKED_IN)
    to_cancel = ReservationFactory(arrival=hotel.business_date + dt.timedelta(days=5))
    missing = ReservationFactory(arrival=hotel.business_date)
    assert run_action(admin_client, Reservation, "check_out", in_house.pk)[0][0] == SUCCESS
    assert run_action(admin_client, Reservation, "cancel", to_cancel.pk)[0][0] == SUCCESS
    assert run_action(admin_client, Reservation, "mark_no_show", missing.pk)[0][0] == SUCCESS
    actions = dict(ReservationStatusChange.objects.values_list("reservation_id", "action"))
    assert actions == {in_house.pk: "check_out", to_cancel.pk: "cancel", missing.pk: "no_show"}
    in_house.refresh_from_db()
    assert in_house.booker.stay_count == 1


def test_cancelling_a_checked_in_stay_is_refused(admin_client, hotel) -> None:
    in_house = ReservationFactory(status=Reservation.Status.CHECKED_IN)
    shown = run_action(admin_client, Reservation, "cancel", in_house.pk)
    in_house.refresh_from_db()
    assert in_house.status == Reservation.Status.CHECKED_IN
    assert in_house.cancel_reason == ""
    [(level, text)] = shown
    assert level == ERROR and "it is checked in" in text


def _reservation_form(admin_client, **overrides: Any) -> dict[str, Any]:
    page = admin_client.get(url(Reservation, "add"))
    data = {
        "booker": "",
        "arrival": "",
        "departure": "",
        "room_type": RoomType.objects.get(code="STD").pk,
        "room_number": "",
        "board_type": BoardType.objects.get(code="BB").pk,
        "adults": "2",
        "children": "0",
        "nightly_rate": "120.00",
        "total_amount": "0.00",
        "currency": "EUR",
        "agency": "",
        "market_segment": "",
        "stay_type": "",
        "source_channel": "",
        "external_ref": "",
        "send_notifications": "on",
        "notes": "",
        **inline_management(page),
    }
    data.update(overrides)
    return data


def test_adding_a_reservation_in_the_admin_goes_through_the_service(
    admin_client, admin_user, reference_data, hotel
) -> None:
    booker, companion = GuestFactory(), GuestFactory()
    arrival = hotel.business_date + dt.timedelta(days=7)
    data = _reservation_form(
        admin_client,
        booker=booker.pk,
        arrival=arrival.isoformat(),
        departure=(arrival + dt.timedelta(days=4)).isoformat(),
        **{"companion_links-TOTAL_FORMS": "1", "companion_links-0-guest": companion.pk},
    )
    response = admin_client.post(url(Reservation, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    reservation = Reservation.objects.get()
    assert (reservation.nights, reservation.total_amount) == (4, Decimal("480.00"))
    assert reservation.status == Reservation.Status.CONFIRMED
    assert reservation.status_changes.get().action == "create"
    assert list(reservation.companions.all()) == [companion]


def test_a_reservation_departing_before_it_arrives_is_refused_by_the_field(
    admin_client, reference_data, hotel
) -> None:
    booker = GuestFactory()
    data = _reservation_form(
        admin_client,
        booker=booker.pk,
        arrival=hotel.business_date.isoformat(),
        departure=hotel.business_date.isoformat(),
    )
    response = admin_client.post(url(Reservation, "add"), data)
    assert set(response.context["adminform"].form.errors) == {"departure"}
    assert not Reservation.objects.exists()


def test_the_booker_cannot_also_be_a_companion(admin_client, reference_data, hotel) -> None:
    booker = GuestFactory()
    data = _reservation_form(
        admin_client,
        booker=booker.pk,
        arrival=hotel.business_date.isoformat(),
        departure=(hotel.business_date + dt.timedelta(days=2)).isoformat(),
        **{"companion_links-TOTAL_FORMS": "1", "companion_links-0-guest": booker.pk},
    )
    response = admin_client.post(url(Reservation, "add"), data)
    assert response.status_code == 200
    assert not Reservation.objects.exists()


def test_changing_a_reservation_in_the_admin_logs_the_modification(
    admin_client, admin_user, populated
) -> None:
    reservation = populated["reservation"]
    page = admin_client.get(url(Reservation, "change", reservation.pk))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data["send_notifications"] = "on" if data["send_notifications"] else ""
    data["departure"] = (reservation.departure + dt.timedelta(days=2)).isoformat()
    data.update(inline_management(page))
    data.update(
        {
            f"companion_links-{i}-{key}": value
            for i, link in enumerate(reservation.companion_links.all())
            for key, value in (
                ("id", link.pk),
                ("reservation", reservation.pk),
                ("guest", link.guest_id),
            )
        }
    )
    response = admin_client.post(url(Reservation, "change", reservation.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    reservation.refresh_from_db()
    assert reservation.nights == 5
    change = reservation.status_changes.filter(action="modify").get()
    assert change.by == admin_user
    assert set(change.changes) == {
        "departure",
        "total_amount",
    }  # the derived total follows the dates


def test_a_closed_reservation_cannot_be_changed(admin_client, hotel) -> None:
    closed = ReservationFactory(status=Reservation.Status.CANCELLED)
    page = admin_client.get(url(Reservation, "change", closed.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert (
        admin_client.post(url(Reservation, "change", closed.pk), {"notes": "x"}).status_code == 403
    )


def test_the_reservation_search_reads_a_confirmation_number(admin_client, hotel) -> None:
    wanted, _other = ReservationFactory(), ReservationFactory()
    response = admin_client.get(url(Reservation, "changelist"), {"q": wanted.number})
    assert [r.pk for r in response.context["cl"].result_list] == [wanted.pk]
    response = admin_client.get(url(Reservation, "changelist"), {"q": wanted.booker.last_name})
    assert response.context["cl"].result_count == 2


# --- Hotel -------------------------------------------------------------------------------------


def test_the_hotel_cannot_be_deleted_and_its_business_date_is_read_only(
    admin_client, hotel
) -> None:
    page = admin_client.get(url(Hotel, "change", hotel.pk))
    assert "business_date" not in page.context["adminform"].form.fields
    assert admin_client.post(url(Hotel, "delete", hotel.pk), {"post": "yes"}).status_code == 403
    assert Hotel.objects.filter(pk=hotel.pk).exists()
