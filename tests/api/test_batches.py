"""Batch upserts: up to 500 records, one transaction each, a result per record in order."""

from __future__ import annotations

import datetime as dt

import pytest

from guests.models import Guest, Hotel, Reservation

from .conftest import pointers

pytestmark = pytest.mark.django_db


def test_each_record_gets_its_own_result_and_a_bad_one_stops_no_other(api) -> None:
    records = [
        {"source": "mews", "external_id": "G1", "data": {"first_name": "Ayşe"}},
        {"source": "mews", "external_id": "G2", "data": {"first_name": "Can", "phone": "12"}},
        {"source": "mews", "external_id": "G3", "data": {"first_name": "Deniz"}},
        {"source": "mews", "external_id": "G1", "data": {"first_name": "Ayşe"}},
    ]

    response = api.post("/api/v1/guests/batch/", {"records": records}, format="json")

    results = response.json()["results"]
    assert response.status_code == 200
    assert [(r["index"], r["status"], r["outcome"]) for r in results] == [
        (0, 201, "created"),
        (1, 400, "error"),
        (2, 201, "created"),
        (3, 200, "unchanged"),
    ]
    assert results[1]["problem"]["errors"][0]["pointer"] == "/phone"
    assert sorted(Guest.objects.values_list("first_name", flat=True)) == ["Ayşe", "Deniz"]


def test_a_refused_move_in_a_batch_is_that_records_409(api, reference: None) -> None:
    today = Hotel.load().business_date
    api.put("/api/v1/guests/mews:G1", {"first_name": "Ayşe"}, format="json")
    stay = {
        "booker": "G1",
        "arrival": today.isoformat(),
        "departure": (today + dt.timedelta(days=2)).isoformat(),
        "room_type": "STD",
        "board_type": "BB",
    }
    records = [
        {"source": "mews", "external_id": "R1", "data": {**stay, "status": "cancelled"}},
        {"source": "mews", "external_id": "R1", "data": {**stay, "status": "checked_in"}},
        {"source": "mews", "external_id": "R2", "data": {**stay, "status": "checked_in"}},
    ]

    results = api.post("/api/v1/reservations/batch/", {"records": records}, format="json").json()[
        "results"
    ]

    assert [r["status"] for r in results] == [201, 409, 201]
    assert set(Reservation.objects.values_list("status", flat=True)) == {"cancelled", "checked_in"}


def test_more_than_500_records_are_refused_whole(api) -> None:
    records = [
        {"source": "mews", "external_id": f"G{i}", "data": {"first_name": "A"}} for i in range(501)
    ]

    response = api.post("/api/v1/guests/batch/", {"records": records}, format="json")

    assert response.status_code == 400
    assert "/records" in pointers(response)
    assert not Guest.objects.exists()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/records"),
        ({"records": []}, "/records"),
        ({"records": "all"}, "/records"),
        ({"records": [{"external_id": "G1", "data": {}}]}, "/records/0/source"),
        ({"records": [{"source": "Mews!", "external_id": "G1", "data": {}}]}, "/records/0/source"),
        ({"records": [{"source": "mews", "data": {}}]}, "/records/0/external_id"),
        ({"records": [{"source": "mews", "external_id": "G1", "data": []}]}, "/records/0/data"),
        (
            {"records": [{"source": "mews", "external_id": "x" * 101, "data": {}}]},
            "/records/0/external_id",
        ),
        ({"records": [None]}, "/records/0"),
        ({"records": [{"source": "mews", "external_id": "G1"}]}, "/records/0/data"),
    ],
)
def test_a_malformed_batch_is_400_and_writes_nothing(api, body: dict, pointer: str) -> None:
    response = api.post("/api/v1/guests/batch/", body, format="json")

    assert response.status_code == 400
    assert pointer in pointers(response), pointers(response)
    assert not Guest.objects.exists()
