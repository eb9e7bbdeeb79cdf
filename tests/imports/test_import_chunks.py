"""Rows go through the import a chunk at a time (I3): the chunk's known guests and stays are
read together, new guests and plain new stays are written a table at a time. What a file does
must not depend on it: the same file, row by row through the upserts alone, writes the same
guests, ids, consents, stays, history, audit entries, trigger events and webhook events, and
reports the same outcome and reason for every row — and the dry run says exactly that."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, Trigger, TriggerEvent
from guests.models import (
    BoardType,
    ConsentRecord,
    Guest,
    GuestExternalId,
    Reservation,
    ReservationExternalId,
    ReservationStatusChange,
    RoomType,
)
from guests.services import guest_upsert, reservation_upsert
from interfaces.imports import engine
from interfaces.imports.services import import_file
from interfaces.webhooks.models import WebhookEvent
from interfaces.webhooks.services import endpoint_create
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

GUESTS = (
    "Guest ID;First name;Last name;E-mail;Mobile;Nationality;Notes;Marketing SMS\n"
    "G1;Ayşe;Yılmaz;ayse@example.com;0532 111 11 11;TR;;evet\n"  # known, as stored: unchanged
    "G2;Hans;Müller;hans@example.de;;DE;late arrival;\n"  # known, new notes: updated
    "G3;Olga;Smirnova;olga@example.ru;+7 912 345 67 89;RU;;evet\n"  # new
    "G4;;Nameless;nobody@example.com;;;;\n"  # no first name: error
    "G5;Emma;Smith;not an address;;GB;;\n"  # the e-mail is refused by the upsert: error
    ";Fatma;Şahin;FATMA@example.com;;;;hayır\n"  # no id, found by e-mail, consent withdrawn
    ";Mehmet;Kaya;;0532 222 22 22;;;\n"  # no id, found by phone: unchanged
    ";Twin;Twin;twin@example.com;;;;\n"  # two guests have this e-mail: error
    "G3;Olga;Smirnova-Petrova;olga@example.ru;;RU;;\n"  # the same id again: updated
    ";Luca;Rossi;luca@example.it;;IT;;evet\n"  # no id, new
    ";Luca;Rossi;luca@example.it;;IT;;hayır\n"  # the same e-mail again: updated
    "G6;Ivan;Ivanov;ivan@example.com;12;;;\n"  # an unreadable phone, kept: created with a note
    "G7;Zeynep;Demir;zeynep@example.com;;XX;;\n"  # unknown nationality: error
)

STAYS = (
    "Res No;Guest ID;First name;Last name;E-mail;Arrival;Departure;Room type;Board;Adults;Status\n"
    "R1;G1;Ayşe;Yılmaz;ayse@example.com;{a};{d};{room};{board};2;\n"  # known stay, unchanged
    "R2;G1;Ayşe;Yılmaz;ayse@example.com;{a};{d};{room};{board};2;\n"  # new stay, known guest
    "R3;G8;Anna;Kowalska;anna@example.pl;{a};{d};{room};{board};1;confirmed\n"  # both new
    "R4;G9;Hans;Klein;klein@example.de;{d};{a};{room};{board};1;\n"  # bad dates: error, no guest
    "R5;G10;Olga;Berg;berg@example.no;{a};{d};Penthouse;{board};1;\n"  # unknown room: error
    "R6;G11;Emma;Stone;stone@example.com;{t};{d};{room};{board};2;checked_in\n"  # in house: alone
    "R7;G2;Hans;Müller;hans@example.de;{a};{d};{room};{board};3;\n"  # known guest updated
    "R3;G8;Anna;Kowalska;anna@example.pl;{a};{d};{room};{board};2;confirmed\n"  # again: updated
    "R8;G12;Luca;Neri;neri@example.it;{a};{d};{room};{board};0;\n"  # no adult: error
    "R9;G13;Ivan;Petrov;petrov@example.com;{a};{d};{room};{board};1;\n"  # new
)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch) -> None:
    # Several chunks, and rows of one chunk depending on each other.
    monkeypatch.setattr(engine, "CHUNK_ROWS", 4)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("importer")


@pytest.fixture
def known(reference_data, hotel) -> dict[str, Any]:
    """What the hotel already has: guests by id, e-mail and phone, a stay, a welcome campaign,
    a check-in campaign and a webhook endpoint for consent changes."""
    options = {"consent_source": "import", "strict_phone": False}
    guest_upsert(
        source="elektraweb",
        external_id="G1",
        data={
            "first_name": "Ayşe",
            "last_name": "Yılmaz",
            "email": "ayse@example.com",
            "phone": "0532 111 11 11",
            "nationality": "TR",
            "consents": [{"purpose": "marketing", "channel": "sms", "granted": True}],
        },
        **options,
    )
    guest_upsert(
        source="elektraweb",
        external_id="G2",
        data={"first_name": "Hans", "last_name": "Müller", "email": "hans@example.de"},
        **options,
    )
    GuestFactory(
        first_name="Fatma",
        last_name="Şahin",
        email="fatma@example.com",
        phone="",
        phone_valid=False,
    )
    GuestFactory(first_name="Mehmet", last_name="Kaya", email="", phone="+905322222222")
    GuestFactory(first_name="Twin", email="twin@example.com", phone="", phone_valid=False)
    GuestFactory(first_name="Twin", email="TWIN@example.com", phone="", phone_valid=False)
    room, board = RoomType.objects.first(), BoardType.objects.first()
    arrival = hotel.business_date + dt.timedelta(days=5)
    departure = arrival + dt.timedelta(days=3)
    reservation_upsert(
        source="elektraweb",
        external_id="R1",
        data={
            "booker": "G1",
            "arrival": arrival,
            "departure": departure,
            "room_type": room,
            "board_type": board,
            "adults": 2,
        },
    )
    for trigger in (Trigger.RESERVATION_CREATED, Trigger.CHECK_IN):
        Campaign.objects.create(name=f"On {trigger}", trigger=trigger, is_active=True)
    endpoint_create(url="https://pms.example.com/hooks", events=["consent.changed"])
    dates = {
        "t": f"{hotel.business_date:%d.%m.%Y}",
        "a": f"{arrival:%d.%m.%Y}",
        "d": f"{departure:%d.%m.%Y}",
    }
    return {"room": room.code, "board": board.name, **dates}


def run(data: str, kind: str, user=None, dry_run: bool = False):
    return import_file(
        data=data.encode(),
        filename=f"{kind}.csv",
        kind=kind,
        source="Elektraweb",
        user=user,
        dry_run=dry_run,
    )


def rows(report) -> list[tuple[int, str, str, str]]:
    return [(r.line, r.outcome, r.label, r.text) for r in report.rows]


def state() -> dict[str, Any]:
    """Everything an import writes, without the ids the database hands out."""

    def of(queryset, *fields: str) -> list[tuple]:
        return sorted(queryset.values_list(*fields), key=repr)

    return {
        "guests": of(
            Guest.objects,
            "first_name",
            "last_name",
            "email",
            "phone",
            "phone_valid",
            "nationality",
            "notes",
            "source",
        ),
        "guest ids": of(GuestExternalId.objects, "source", "external_id", "guest__email"),
        "consents": of(
            ConsentRecord.objects,
            "guest__email",
            "purpose",
            "channel",
            "granted",
            "source",
            "recorded_by__username",
        ),
        "stays": of(
            Reservation.objects,
            "booker__email",
            "status",
            "arrival",
            "departure",
            "nights",
            "adults",
            "total_amount",
            "send_notifications",
        ),
        "stay ids": of(ReservationExternalId.objects, "external_id", "reservation__booker__email"),
        "stay history": of(
            ReservationStatusChange.objects,
            "reservation__booker__email",
            "action",
            "from_status",
            "to_status",
            "changes",
            "by__username",
        ),
        "audit": of(
            LogEntry.objects,
            "content_type__model",
            "object_repr",
            "action_flag",
            "change_message",
            "user__username",
        ),
        "triggers": of(TriggerEvent.objects, "kind", "reservation__booker__email"),
        "webhook events": sorted(
            Counter(WebhookEvent.objects.values_list("type", flat=True)).items()
        ),
    }


def row_by_row(monkeypatch) -> None:
    """Every row through the upserts alone, as before chunks."""
    apply = engine._Chunk.apply
    monkeypatch.setattr(engine._Chunk, "apply", lambda self, batched: apply(self, batched=False))


def both_ways(data: str, kind: str, user, monkeypatch) -> tuple[Any, Any, Any, Any]:
    """The file row by row (then undone), and in chunks: their reports and what they wrote."""
    with transaction.atomic():
        with monkeypatch.context() as patch:
            row_by_row(patch)
            alone = run(data, kind, user)
        alone_state = state()
        transaction.set_rollback(True)
    batched = run(data, kind, user)
    return alone, alone_state, batched, state()


def test_a_guests_file_in_chunks_does_what_it_does_row_by_row(known, staff, monkeypatch) -> None:
    alone, alone_state, batched, batched_state = both_ways(GUESTS, "guests", staff, monkeypatch)

    assert rows(batched) == rows(alone)
    assert batched_state == alone_state
    # The file is the mix it means to be.
    assert [r.outcome for r in batched.rows] == [
        "unchanged",
        "updated",
        "created",
        "error",
        "error",
        "updated",
        "unchanged",
        "error",
        "updated",
        "created",
        "updated",
        "created",
        "error",
    ]
    assert "Several guests have this e-mail" in batched.rows[7].text
    assert "not a valid e-mail" in batched.rows[4].text
    assert "kept as given" in batched.rows[11].text
    assert ("guest", "Olga Smirnova", 1, "Created.", "importer") in batched_state["audit"]
    assert dict(batched_state["webhook events"])["consent.changed"] == 4


def test_a_reservations_file_in_chunks_does_what_it_does_row_by_row(
    known, staff, monkeypatch
) -> None:
    data = STAYS.format(**known)

    alone, alone_state, batched, batched_state = both_ways(data, "reservations", staff, monkeypatch)

    assert rows(batched) == rows(alone)
    assert batched_state == alone_state
    assert [r.outcome for r in batched.rows] == [
        "unchanged",
        "created",
        "created",
        "error",
        "error",
        "created",
        "created",
        "updated",
        "error",
        "created",
    ]
    triggers = Counter(kind for kind, _email in batched_state["triggers"])
    assert triggers == {"reservation_created": 5, "check_in": 1}  # R2, R3, R6, R7, R9; R6
    # A row that fails leaves nothing of itself: not even its guest.
    assert not Guest.objects.filter(email__in=["klein@example.de", "neri@example.it"]).exists()
    assert Reservation.objects.get(external_ids__external_id="R3").adults == 2


def test_the_dry_run_of_a_mixed_file_is_the_import_it_then_does(known, staff) -> None:
    data = STAYS.format(**known)
    before = state()

    dry_guests = run(GUESTS, "guests", staff, dry_run=True)
    assert state() == before
    real_guests = run(GUESTS, "guests", staff)
    dry_stays = run(data, "reservations", staff, dry_run=True)
    real_stays = run(data, "reservations", staff)

    assert rows(dry_guests) == rows(real_guests)
    assert rows(dry_stays) == rows(real_stays)


def test_a_bad_row_in_a_chunk_is_reported_and_the_others_are_imported(reference_data) -> None:
    room, board = RoomType.objects.first().code, BoardType.objects.first().code
    lines = ["Res No;Guest ID;First name;Arrival;Departure;Room type;Board"]
    for n in range(1, 10):
        departure = "01.06.2030" if n != 5 else "20.05.2030"  # row 5 departs before it arrives
        lines.append(f"R{n};G{n};Guest {n};25.05.2030;{departure};{room};{board}")

    report = run("\n".join(lines), "reservations")

    assert [r.outcome for r in report.rows].count("created") == 8
    assert report.errors[0].line == 6 and "departure" in report.errors[0].text.lower()
    assert Reservation.objects.count() == 8 and Guest.objects.count() == 8
    assert not GuestExternalId.objects.filter(external_id="G5").exists()


def test_a_refused_batch_is_done_again_row_by_row(monkeypatch) -> None:
    save = engine.services.guests_save_upserted
    refusals: list[int] = []

    def refuse_once(new, *args, **kwargs) -> None:
        if not refusals:
            refusals.append(len(new))
            save(new, *args, **kwargs)  # written, then refused: the chunk's savepoint undoes it
            raise IntegrityError("duplicate key value violates unique constraint")
        save(new, *args, **kwargs)

    monkeypatch.setattr(engine.services, "guests_save_upserted", refuse_once)
    data = "Guest ID;First name\n" + "".join(f"G{n};Guest {n}\n" for n in range(1, 10))

    report = run(data, "guests")

    assert refusals == [4]
    assert [r.outcome for r in report.rows] == ["created"] * 9
    assert GuestExternalId.objects.count() == 9 and Guest.objects.count() == 9


def test_a_chunk_of_new_guests_is_written_in_a_few_statements(monkeypatch) -> None:
    monkeypatch.setattr(engine, "CHUNK_ROWS", 500)
    data = "Guest ID;First name;E-mail\n" + "".join(
        f"G{n};Guest {n};g{n}@example.com\n" for n in range(1, 41)
    )

    with CaptureQueriesContext(connection) as queries:
        report = run(data, "guests")

    assert report.counts["created"] == 40
    assert len(queries.captured_queries) < 20  # row by row it was over 200


def test_known_guests_changed_together_are_written_as_one_by_one(staff, monkeypatch) -> None:
    head = "Guest ID;First name;Last name;E-mail;Mobile;Newsletter\n"
    before = "".join(f"G{n};Guest;Old {n};g{n}@example.com;0532 333 33 0{n};\n" for n in range(8))
    run(head + before, "guests", staff)
    after = "".join(
        f"G{n};Guest;New {n};g{n}@example.org;0532 333 33 0{n};{'evet' if n % 2 else ''}\n"
        for n in range(8)
    )

    alone, alone_state, batched, batched_state = both_ways(
        head + after, "guests", staff, monkeypatch
    )

    assert rows(batched) == rows(alone)
    assert batched_state == alone_state
    assert [r.outcome for r in batched.rows] == ["updated"] * 8
    assert ("guest", "Guest New 3", 2, "Changed last_name, email.", "importer") in (
        batched_state["audit"]
    )
    assert Guest.objects.filter(last_name__startswith="New", email__endswith=".org").count() == 8
    assert ConsentRecord.objects.filter(purpose="marketing", channel="email").count() == 4
