"""Who stays and where, from Mews (I4): a reservation's companions (companionships/getAll)
become the stay's companions through the front desk's service, once, and leave it when Mews
removes them; the requested resource category becomes the room type and the assigned
resource's name the room number."""

from __future__ import annotations

import pytest

from guests.models import Guest, GuestExternalId, ReservationCompanion, RoomType
from interfaces.mews import client as mews_client
from interfaces.mews.services import mews_pull

from .test_sync import mews_stays, stay, stay_dates

pytestmark = pytest.mark.django_db


def companions_of(mews_id: str) -> set[str]:
    return {
        f"{c.guest.first_name} {c.guest.last_name}"
        for c in ReservationCompanion.objects.filter(reservation=stay(mews_id)).select_related(
            "guest"
        )
    }


def family(fake_mews) -> tuple[str, str, str, str]:
    """A reservation of Ayşe's with Mehmet and Deniz staying too; the three customer ids."""
    ayse = fake_mews.add_customer(first_name="Ayşe", last_name="Yılmaz", email="ayse@example.com")
    mehmet = fake_mews.add_customer(first_name="Mehmet", last_name="Yılmaz")
    deniz = fake_mews.add_customer(first_name="Deniz", last_name="Yılmaz")
    start, end = stay_dates()
    mews_id = fake_mews.add_reservation(customer_id=ayse, start=start, end=end, adults=3)
    fake_mews.add_companion(mews_id, mehmet)
    fake_mews.add_companion(mews_id, deniz)
    return mews_id, ayse, mehmet, deniz


def test_two_companions_come_in_once_by_webhook_and_pull(connection, fake_mews, webhook) -> None:
    mews_id, ayse, mehmet, deniz = family(fake_mews)

    assert webhook(("ServiceOrderUpdated", mews_id)) == 202
    reservation = stay(mews_id)
    assert reservation.booker.first_name == "Ayşe"
    # The owner is a companion in Mews too; here she is the booker, not her own companion.
    assert companions_of(mews_id) == {"Mehmet Yılmaz", "Deniz Yılmaz"}
    # Every customer fetched once, in one request, with no id twice.
    (customers_call,) = fake_mews.operations("customers/getAll")
    asked = customers_call.json["CustomerIds"]
    assert sorted(asked) == sorted([ayse, mehmet, deniz]) and len(asked) == len(set(asked))
    companionships = fake_mews.operations("companionships/getAll")
    assert [c.json["ReservationIds"] for c in companionships] == [[mews_id]]

    # The pull sees the same change: nothing is added twice, no guest is made twice.
    mews_pull(connection=connection)
    webhook(("ServiceOrderUpdated", mews_id))
    assert ReservationCompanion.objects.filter(reservation=reservation).count() == 2
    assert GuestExternalId.objects.filter(source="mews").count() == 3
    assert Guest.objects.filter(last_name="Yılmaz").count() == 3


def test_a_companion_removed_in_mews_leaves_the_stay_and_keeps_his_profile(
    connection, fake_mews, webhook
) -> None:
    mews_id, _ayse, mehmet, _deniz = family(fake_mews)
    webhook(("ServiceOrderUpdated", mews_id))
    assert companions_of(mews_id) == {"Mehmet Yılmaz", "Deniz Yılmaz"}

    fake_mews.remove_companion(mews_id, mehmet)
    mews_pull(connection=connection)

    assert companions_of(mews_id) == {"Deniz Yılmaz"}
    assert Guest.objects.filter(first_name="Mehmet").exists()  # the profile stays


def test_companions_are_read_afresh_even_when_the_reservation_did_not_change(
    connection, fake_mews, webhook
) -> None:
    """Mews does not promise that a companion change moves the reservation's UpdatedUtc: the
    companions are set from companionships/getAll whenever the reservation is fetched."""
    mews_id, _ayse, mehmet, _deniz = family(fake_mews)
    webhook(("ServiceOrderUpdated", mews_id))
    extra = fake_mews.add_customer(first_name="Ece", last_name="Kaya")

    fake_mews.remove_companion(mews_id, mehmet, touch=False)
    fake_mews.add_companion(mews_id, extra, touch=False)
    webhook(("ServiceOrderUpdated", mews_id))

    assert companions_of(mews_id) == {"Deniz Yılmaz", "Ece Kaya"}


def test_companionships_are_read_page_by_page(connection, fake_mews, webhook, monkeypatch) -> None:
    monkeypatch.setattr(mews_client, "PAGE_SIZE", 2)
    mews_id, *_ = family(fake_mews)  # three companionships: the owner and two more

    webhook(("ServiceOrderUpdated", mews_id))

    pages = fake_mews.operations("companionships/getAll")
    assert len(pages) == 2
    assert "Cursor" not in pages[0].json["Limitation"]
    assert pages[1].json["Limitation"]["Cursor"]
    assert companions_of(mews_id) == {"Mehmet Yılmaz", "Deniz Yılmaz"}


def test_the_room_category_and_the_assigned_room_appear_on_the_stay(
    connection, fake_mews, webhook, settings
) -> None:
    settings.HOTEL_DEFAULT_LANGUAGE = "tr"
    suite = fake_mews.add_resource_category(
        names={"en-US": "Garden Deluxe", "tr-TR": "Bahçe Deluxe"}, short_names={"en-US": "GDLX"}
    )
    room = fake_mews.add_resource("204")
    guest = fake_mews.add_customer(first_name="Olga", last_name="Smirnova")
    start, end = stay_dates()
    mews_id = fake_mews.add_reservation(
        customer_id=guest, start=start, end=end, category_id=suite, resource_id=room
    )

    webhook(("ServiceOrderUpdated", mews_id))
    reservation = stay(mews_id)
    # A category the hotel had not listed: a room type of its own, named in the hotel's language.
    assert reservation.room_type.name == "Bahçe Deluxe" and reservation.room_type.code == "GDLX"
    assert reservation.room_number == "204"
    category_call = fake_mews.operations("resourceCategories/getAll")[0].json
    assert category_call["ResourceCategoryIds"] == [suite]
    assert category_call["ServiceIds"] == [fake_mews.service_id]

    # Moved to another room, then to a category the hotel has (STD): both follow.
    other = fake_mews.add_resource("305")
    fake_mews.update_reservation(mews_id, AssignedResourceId=other)
    webhook(("ServiceOrderUpdated", mews_id))
    assert stay(mews_id).room_number == "305"
    fake_mews.update_reservation(
        mews_id, RequestedResourceCategoryId=fake_mews.default_category, AssignedResourceId=None
    )
    mews_pull(connection=connection)
    reservation = stay(mews_id)
    assert reservation.room_type == RoomType.objects.get(code="STD")
    assert reservation.room_number == ""


def test_a_category_the_hotel_already_has_is_used_not_copied(
    connection, fake_mews, webhook
) -> None:
    # The fake's default category is "Standard Double", short name "STD": the hotel's STD.
    existing = RoomType.objects.get(code="STD")
    before = RoomType.objects.count()
    guest = fake_mews.add_customer(first_name="Olga", last_name="Smirnova")
    start, end = stay_dates()
    first = fake_mews.add_reservation(customer_id=guest, start=start, end=end)
    second = fake_mews.add_reservation(customer_id=guest, start=start, end=end)

    webhook(("ServiceOrderUpdated", first), ("ServiceOrderUpdated", second))

    assert stay(first).room_type == existing and stay(second).room_type == existing
    assert RoomType.objects.count() == before
    assert len(mews_stays()) == 2
