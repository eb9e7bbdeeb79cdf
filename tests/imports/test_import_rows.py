"""Importing rows (I3): upsert by the source's id, else e-mail, else phone; phone numbers in
the hotel's region; consents only when a column states them; bad rows reported, good rows
applied; a second run of the same file changes nothing; the dry run writes nothing and says
what the import does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from guests.models import ConsentRecord, Guest, Reservation
from guests.selectors import consent_current
from interfaces.imports.services import import_file
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

GUESTS_CSV = (
    "Guest ID;First name;Last name;E-mail;Mobile;Language;Marketing SMS\n"
    "G1;Ayşe;Yılmaz;ayse@example.com;0532 123 45 67;tr;evet\n"
    "G2;Hans;Müller;hans@example.de;+49 151 12345678;de;\n"
    "G3;;Nameless;x@example.com;;en;\n"
    "G4;Olga;Smirnova;olga@example.ru;12;ru;maybe\n"
)


def run(data: str | bytes, kind: str = "guests", dry_run: bool = False, **kwargs):
    raw = data.encode() if isinstance(data, str) else data
    return import_file(
        data=raw, filename="file.csv", kind=kind, source="Elektraweb", dry_run=dry_run, **kwargs
    )


def outcomes(report) -> dict[int, str]:
    return {row.line: row.outcome for row in report.rows}


def test_good_rows_are_applied_and_bad_rows_reported_with_the_reason() -> None:
    report = run(GUESTS_CSV)

    assert outcomes(report) == {2: "created", 3: "created", 4: "error", 5: "error"}
    reasons = {row.line: row.text for row in report.errors}
    assert "first name" in reasons[4].lower()
    assert "maybe" in reasons[5] and "neither yes nor no" in reasons[5]
    ayse = Guest.objects.get(email="ayse@example.com")
    assert ayse.phone == "+905321234567" and ayse.phone_valid  # read in the hotel's region
    assert Guest.objects.filter(email="hans@example.de", language="de").exists()
    assert not Guest.objects.filter(last_name__in=["Nameless", "Smirnova"]).exists()


def test_consent_is_recorded_only_where_a_column_states_it() -> None:
    run(GUESTS_CSV)

    ayse = Guest.objects.get(email="ayse@example.com")
    statement = consent_current(ayse)[("marketing", "sms")]
    assert statement.granted and statement.source == "import"
    hans = Guest.objects.get(email="hans@example.de")
    assert not ConsentRecord.objects.filter(guest=hans).exists()  # empty cell: nothing assumed


def test_the_same_file_again_changes_nothing() -> None:
    run(GUESTS_CSV)
    consents = ConsentRecord.objects.count()

    again = run(GUESTS_CSV)

    assert outcomes(again) == {2: "unchanged", 3: "unchanged", 4: "error", 5: "error"}
    assert Guest.objects.count() == 2 and ConsentRecord.objects.count() == consents


def test_a_changed_cell_updates_the_guest_and_says_so() -> None:
    run(GUESTS_CSV)

    again = run(GUESTS_CSV.replace("hans@example.de", "hans@new.example"))

    assert outcomes(again)[3] == "updated"
    assert Guest.objects.get(last_name="Müller").email == "hans@new.example"


def test_without_a_guest_id_a_guest_is_found_by_email_then_by_phone() -> None:
    by_email = GuestFactory(
        first_name="Ayşe", email="AYSE@example.com", phone="", phone_valid=False
    )
    by_phone = GuestFactory(first_name="Mehmet", email="", phone="+905329876543")
    data = "First name;E-mail;Phone;Notes\nAyşe;ayse@example.com;;VIP friend\nMehmet;;0532 987 65 43;Late arrival\nNew;new@example.com;;\n"

    report = run(data)

    assert outcomes(report) == {2: "updated", 3: "updated", 4: "created"}
    by_email.refresh_from_db()
    by_phone.refresh_from_db()
    assert by_email.notes == "VIP friend" and by_phone.notes == "Late arrival"
    assert Guest.objects.count() == 3


def test_the_dry_run_writes_nothing_and_tells_what_the_import_will_do() -> None:
    dry = run(GUESTS_CSV, dry_run=True)

    assert Guest.objects.count() == 0 and ConsentRecord.objects.count() == 0
    real = run(GUESTS_CSV)
    assert [(r.line, r.outcome, r.text) for r in dry.rows] == [
        (r.line, r.outcome, r.text) for r in real.rows
    ]


def test_an_unreadable_phone_is_kept_as_given_and_never_dialled() -> None:
    report = run("First name;Phone\nZeynep;12345\n")

    assert outcomes(report) == {2: "created"}
    assert "kept as given" in report.rows[0].text
    zeynep = Guest.objects.get()
    assert zeynep.phone == "12345" and not zeynep.phone_valid


RESERVATIONS_CSV = (
    "Res No;Guest ID;First name;Last name;E-mail;Arrival;Departure;Room type;Board;Adults;Status\n"
    "R1;G1;Ayşe;Yılmaz;ayse@example.com;{a};{d};{room};{board};2;confirmed\n"
    "R2;G2;Hans;Müller;hans@example.de;{a};{d};Penthouse;{board};2;confirmed\n"
    "R3;G3;Anna;Kowalska;anna@example.pl;{d};{a};{room};{board};1;confirmed\n"
)


@pytest.fixture
def reservations_csv(reference_data, hotel) -> str:
    from guests.models import BoardType, RoomType

    arrival = hotel.business_date
    return RESERVATIONS_CSV.format(
        a=arrival.strftime("%d.%m.%Y"),
        d=(arrival + dt.timedelta(days=3)).strftime("%d.%m.%Y"),
        room=RoomType.objects.first().code,
        board=BoardType.objects.first().name,
    )


def test_reservations_are_imported_with_their_guests(reservations_csv) -> None:
    report = run(reservations_csv, kind="reservations")

    assert outcomes(report) == {2: "created", 3: "error", 4: "error"}
    reasons = {row.line: row.text for row in report.errors}
    assert "Penthouse" in reasons[3]
    assert "departure" in reasons[4].lower()
    stay = Reservation.objects.get()
    assert stay.booker.email == "ayse@example.com" and stay.adults == 2
    assert stay.status == Reservation.Status.CONFIRMED


def test_a_check_in_in_the_file_goes_through_the_front_desks_transition(reservations_csv) -> None:
    from guests import signals

    fired: list[int] = []

    def count(reservation, **kwargs) -> None:
        fired.append(reservation.pk)

    signals.reservation_checked_in.connect(count, dispatch_uid="test-import-check-in")
    try:
        run(reservations_csv, kind="reservations")
        checked_in = reservations_csv.replace("confirmed", "checked_in")
        first = run(checked_in, kind="reservations")
        second = run(checked_in, kind="reservations")
    finally:
        signals.reservation_checked_in.disconnect(dispatch_uid="test-import-check-in")

    assert outcomes(first)[2] == "updated" and outcomes(second)[2] == "unchanged"
    assert len(fired) == 1 and Reservation.objects.get().status == "checked_in"


def test_the_command_imports_with_explicit_columns(tmp_path, capsys) -> None:
    path = tmp_path / "guests.csv"
    path.write_text("Vorname,Mail\nJürgen,j@example.de\n", encoding="utf-8")

    call_command(
        "import_file",
        str(path),
        "--kind",
        "guests",
        "--source",
        "Opera",
        "--map",
        "first_name=Vorname",
        "--map",
        "email=Mail",
        "--save-preset",
    )

    assert "1 created" in capsys.readouterr().out
    assert Guest.objects.filter(first_name="Jürgen", email="j@example.de").exists()
    from interfaces.imports.models import ImportPreset

    assert ImportPreset.objects.get(source="opera").mapping == {
        "first_name": "Vorname",
        "email": "Mail",
    }


def test_the_command_dry_run_writes_nothing_and_fails_on_bad_rows(tmp_path, capsys) -> None:
    path = tmp_path / "guests.csv"
    path.write_text(GUESTS_CSV, encoding="utf-8")

    with pytest.raises(SystemExit) as exit_status:
        call_command(
            "import_file", str(path), "--kind", "guests", "--source", "Elektraweb", "--dry-run"
        )

    assert exit_status.value.code == 1
    out = capsys.readouterr().out
    assert "line 5:" in out and "Dry run (nothing written): 2 created" in out
    assert Guest.objects.count() == 0
