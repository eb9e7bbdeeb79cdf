"""Keeping a Mews property in step (I4), against the local fake Mews: webhooks and the pull
bring customers and reservations in through the guests' services, states map onto our
transitions so triggers fire once, and nothing is applied twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from guests import signals
from guests.models import Guest, Reservation, ReservationExternalId
from interfaces.mews import client as mews_client
from interfaces.mews.client import MewsError
from interfaces.mews.models import MewsRecord, MewsWebhook
from interfaces.mews.services import mews_pull

pytestmark = pytest.mark.django_db

Status = Reservation.Status


@pytest.fixture
def fired() -> Iterator[dict[str, list[int]]]:
    """How often each transition's signal fired, by reservation id."""
    seen: dict[str, list[int]] = {"check_in": [], "check_out": [], "cancel": [], "no_show": []}
    receivers = {
        "check_in": signals.reservation_checked_in,
        "check_out": signals.reservation_checked_out,
        "cancel": signals.reservation_cancelled,
        "no_show": signals.reservation_no_show,
    }
    handlers = {}
    for name, signal in receivers.items():

        def handler(reservation: Reservation, _name: str = name, **kwargs: object) -> None:
            seen[_name].append(reservation.pk)

        handlers[name] = handler
        signal.connect(handler, weak=False, dispatch_uid=f"test-mews-{name}")
    yield seen
    for name, signal in receivers.items():
        signal.disconnect(dispatch_uid=f"test-mews-{name}")


def stay_dates(nights: int = 3) -> tuple[dt.datetime, dt.datetime]:
    """Arrival today at 14:00 hotel time, departure ``nights`` later at 11:00."""
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    start = dt.datetime.combine(today, dt.time(14), tzinfo=zone)
    end = dt.datetime.combine(today + dt.timedelta(days=nights), dt.time(11), tzinfo=zone)
    return start, end


def stay(mews_id: str) -> Reservation:
    return Reservation.objects.get(pk=mews_stays()[mews_id])


def mews_stays() -> dict[str, int]:
    """Mews reservation id → our reservation's id."""
    return dict(
        ReservationExternalId.objects.filter(source="mews").values_list(
            "external_id", "reservation_id"
        )
    )


def test_a_stay_moving_confirmed_started_processed_checks_in_and_out_once(
    connection, fake_mews, webhook, fired
) -> None:
    customer = fake_mews.add_customer(
        first_name="Ayşe", last_name="Yılmaz", email="ayse@example.com", phone="+905321234567"
    )
    start, end = stay_dates()
    mews_id = fake_mews.add_reservation(customer_id=customer, start=start, end=end, adults=2)

    assert webhook(("ServiceOrderUpdated", mews_id)) == 202
    reservation = stay(mews_id)
    assert reservation.status == Status.CONFIRMED
    assert reservation.arrival == start.date() and reservation.departure == end.date()
    assert reservation.booker.email == "ayse@example.com"
    assert reservation.booker.phone == "+905321234567"

    fake_mews.set_state(mews_id, "Started")
    assert webhook(("ServiceOrderUpdated", mews_id)) == 202
    assert stay(mews_id).status == Status.CHECKED_IN
    # The same change again: Mews resends a webhook, and the pull sees it too.
    assert webhook(("ServiceOrderUpdated", mews_id)) == 202
    mews_pull(connection=connection)
    assert fired["check_in"] == [reservation.pk]

    fake_mews.set_state(mews_id, "Processed")
    mews_pull(connection=connection)  # this time only the pull sees it
    assert webhook(("ServiceOrderUpdated", mews_id)) == 202
    assert stay(mews_id).status == Status.CHECKED_OUT
    assert fired == {
        "check_in": [reservation.pk],
        "check_out": [reservation.pk],
        "cancel": [],
        "no_show": [],
    }
    assert Guest.objects.count() == 1 and Reservation.objects.count() == 1
    assert MewsWebhook.objects.filter(processed_at__isnull=True).count() == 0


def test_a_stay_first_seen_checked_out_is_checked_in_then_out(connection, fake_mews, fired) -> None:
    customer = fake_mews.add_customer(first_name="Hans", last_name="Müller")
    start, end = stay_dates(nights=2)
    mews_id = fake_mews.add_reservation(customer_id=customer, start=start, end=end)
    mews_pull(connection=connection)
    fake_mews.set_state(mews_id, "Started")
    fake_mews.set_state(mews_id, "Processed")

    mews_pull(connection=connection)  # one pull saw both moves

    assert stay(mews_id).status == Status.CHECKED_OUT
    assert len(fired["check_in"]) == 1 and len(fired["check_out"]) == 1


def test_a_cancellation_cancels_the_stay_once(connection, fake_mews, webhook, fired) -> None:
    customer = fake_mews.add_customer(first_name="Olga", last_name="Smirnova")
    start, end = stay_dates()
    mews_id = fake_mews.add_reservation(
        customer_id=customer, start=start + dt.timedelta(days=7), end=end + dt.timedelta(days=7)
    )
    webhook(("ServiceOrderUpdated", mews_id))

    fake_mews.set_state(mews_id, "Canceled", reason="RequestedByGuest")
    webhook(("ServiceOrderUpdated", mews_id))
    mews_pull(connection=connection)

    assert stay(mews_id).status == Status.CANCELLED
    assert fired["cancel"] == [stay(mews_id).pk] and fired["no_show"] == []


def test_a_customer_changing_email_updates_the_guest(connection, fake_mews, webhook) -> None:
    customer = fake_mews.add_customer(
        first_name="Anna", last_name="Kowalska", email="anna@old.example"
    )
    webhook(("CustomerAdded", customer), ("CustomerUpdated", customer))
    guest = Guest.objects.get()
    assert guest.email == "anna@old.example"
    assert len(fake_mews.operations("customers/getAll")) == 1  # Added + Updated: fetched once

    fake_mews.update_customer(customer, Email="anna@new.example")
    webhook(("CustomerUpdated", customer))

    guest.refresh_from_db()
    assert guest.email == "anna@new.example" and Guest.objects.count() == 1


def test_a_customer_whose_name_holds_a_nul_comes_in_without_it(
    connection, fake_mews, webhook
) -> None:
    # Mews' answers are cleaned like its webhooks: the guest's write no longer fails, so the
    # customer is not lost and the pull's window does not stall on him.
    customer = fake_mews.add_customer(first_name="An\x00na", last_name="Kowalska")

    assert webhook(("CustomerAdded", customer)) == 202

    assert Guest.objects.get().first_name == "Anna"


def test_the_pull_pages_with_the_cursor_and_keeps_its_place(
    connection, fake_mews, monkeypatch
) -> None:
    monkeypatch.setattr(mews_client, "PAGE_SIZE", 2)
    start, end = stay_dates()
    ids = []
    for n in range(5):
        customer = fake_mews.add_customer(first_name=f"Guest{n}", last_name="Pager")
        ids.append(fake_mews.add_reservation(customer_id=customer, start=start, end=end))
    now = (timezone.now() + dt.timedelta(seconds=1)).replace(microsecond=0)

    mews_pull(connection=connection, now=now)

    assert set(mews_stays()) == set(ids)
    pages = fake_mews.operations("reservations/getAll/2023-06-06")
    assert [("Cursor" in p.json["Limitation"]) for p in pages] == [False, True, True]
    connection.refresh_from_db()
    assert connection.pulled_until == now and connection.last_error == ""

    fake_mews.reset()
    mews_pull(connection=connection, now=now + dt.timedelta(minutes=5))
    window = fake_mews.operations("reservations/getAll/2023-06-06")[0].json["UpdatedUtc"]
    # The next pull starts at the cursor, less a 5-minute overlap.
    assert window["StartUtc"] == mews_client.utc_text(
        now.replace(microsecond=0) - dt.timedelta(minutes=5)
    )


def test_an_outage_leaves_the_cursor_where_it_was(connection, fake_mews) -> None:
    from tests.fakes._server import Outcome

    fake_mews.script(Outcome("error", http_status=503, body={"Message": "Down"}))
    before = connection.pulled_until

    with pytest.raises(MewsError):
        mews_pull(connection=connection)

    connection.refresh_from_db()
    assert connection.pulled_until == before and "503" in connection.last_error


def test_an_older_version_never_undoes_a_newer_one(connection, fake_mews, webhook) -> None:
    customer = fake_mews.add_customer(first_name="Ali", last_name="Kaya")
    start, end = stay_dates()
    mews_id = fake_mews.add_reservation(customer_id=customer, start=start, end=end)
    stale = dict(fake_mews.reservations[mews_id])  # the Confirmed version
    fake_mews.set_state(mews_id, "Started")
    webhook(("ServiceOrderUpdated", mews_id))

    from interfaces.mews.services import SyncReport, _once, _reservation_applier

    report = SyncReport()
    _once(
        connection,
        MewsRecord.Kind.RESERVATION,
        stale,
        _reservation_applier(connection, stale, [], None, ""),
        report,
    )

    assert report.counts["already applied"] == 1
    assert stay(mews_id).status == Status.CHECKED_IN


def test_an_enquiry_comes_in_only_once_confirmed(connection, fake_mews, webhook) -> None:
    customer = fake_mews.add_customer(first_name="Eva", last_name="Novak")
    start, end = stay_dates()
    mews_id = fake_mews.add_reservation(
        customer_id=customer, start=start, end=end, state="Inquired"
    )

    webhook(("ServiceOrderUpdated", mews_id))
    assert mews_id not in mews_stays()

    fake_mews.set_state(mews_id, "Confirmed")
    webhook(("ServiceOrderUpdated", mews_id))
    assert stay(mews_id).status == Status.CONFIRMED
