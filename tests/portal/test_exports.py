"""Exports for managers (P4, G6): newsletter contacts as Mailchimp-ready CSV, consent history per guest."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from guests.models import Guest
from guests.services import guest_greylist, guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db
AT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _consent(
    guest: Guest,
    granted: bool = True,
    *,
    purpose: str = "marketing",
    channel: str = "email",
    at: dt.datetime = AT,
) -> None:
    guest_record_consent(
        guest=guest,
        purpose=purpose,
        channel="" if purpose == "data_processing" else channel,
        granted=granted,
        source="staff",
        at=at,
        wording_version="2026-01",
    )


def _rows(response) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def manager(client, django_user_model):
    user = django_user_model.objects.create_user("manager", password="pw")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="portal", codename__startswith="export_")
    )
    client.force_login(user)
    return client


def test_the_newsletter_export_has_the_columns_a_newsletter_tool_imports(manager) -> None:
    guest = GuestFactory(
        first_name="Ayşe",
        last_name="Yılmaz",
        email="ayse@example.com",
        language="tr",
        nationality="TR",
    )
    _consent(guest)
    response = manager.get(reverse("exports:newsletter"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        'attachment; filename="newsletter-email-consent-'
    )
    assert _rows(response) == [
        {
            "Email Address": "ayse@example.com",
            "First Name": "Ayşe",
            "Last Name": "Yılmaz",
            "Language": "tr",
            "Country": "TR",
            "Consent Date": "2026-03-01 09:30:00",
        }
    ]


def test_only_guests_who_may_get_marketing_email_are_exported(manager) -> None:
    yes = GuestFactory(email="yes@example.com")
    _consent(yes)
    _consent(GuestFactory(email="never@example.com"), granted=False)
    opted_out = GuestFactory(email="out@example.com")
    _consent(opted_out, at=AT)
    _consent(opted_out, granted=False, at=AT + dt.timedelta(days=1))
    GuestFactory(email="asked-nothing@example.com")
    _consent(GuestFactory(email="sms-only@example.com"), channel="sms")
    relay = GuestFactory(email="abc@guest.booking.com")
    _consent(relay)
    no_data = GuestFactory(email="nodata@example.com")
    _consent(no_data)
    _consent(no_data, granted=False, purpose="data_processing")
    grey = GuestFactory(email="grey@example.com")
    _consent(grey)
    guest_greylist(
        guest=grey, reason="chargeback", expires_at=timezone.now() + dt.timedelta(days=30)
    )
    _consent(GuestFactory(email=""))
    rows = _rows(manager.get(reverse("exports:newsletter")))
    assert [r["Email Address"] for r in rows] == ["yes@example.com"]


def test_the_consent_date_is_that_of_the_consent_in_force(manager) -> None:
    guest = GuestFactory(email="again@example.com")
    _consent(guest, at=AT)
    _consent(guest, granted=False, at=AT + dt.timedelta(days=1))
    _consent(guest, at=AT + dt.timedelta(days=2))
    [row] = _rows(manager.get(reverse("exports:newsletter")))
    assert row["Consent Date"] == "2026-03-03 09:30:00"


def test_spreadsheet_formulas_in_names_are_defused(manager) -> None:
    _consent(GuestFactory(first_name='=HYPERLINK("http://x")', email="f@example.com"))
    [row] = _rows(manager.get(reverse("exports:newsletter")))
    assert row["First Name"].startswith("'=")


def test_the_consent_history_lists_every_statement_oldest_first(manager) -> None:
    guest = GuestFactory(first_name="Ayşe", last_name="Yılmaz")
    _consent(guest, at=AT)
    _consent(guest, purpose="data_processing", at=AT + dt.timedelta(hours=1))
    guest_record_consent(
        guest=guest,
        purpose="marketing",
        channel="email",
        granted=False,
        source="unsubscribe_link",
        at=AT + dt.timedelta(days=1),
        note="followed the unsubscribe link",
    )
    _consent(GuestFactory())  # someone else's
    response = manager.get(reverse("exports:consents", args=[guest.pk]))
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="consent-history-guest-{guest.pk}.csv"'
    )
    rows = _rows(response)
    assert [
        (
            r["Recorded at"],
            r["Purpose"],
            r["Channel"],
            r["Granted"],
            r["Source"],
            r["Wording version"],
        )
        for r in rows
    ] == [
        ("2026-03-01 09:30:00", "Marketing messages", "E-mail", "yes", "Staff", "2026-01"),
        ("2026-03-01 10:30:00", "Data processing (KVKK/GDPR)", "", "yes", "Staff", "2026-01"),
        ("2026-03-02 09:30:00", "Marketing messages", "E-mail", "no", "Unsubscribe link", ""),
    ]
    assert {r["Guest"] for r in rows} == {"Ayşe Yılmaz"}


def test_the_consent_history_reads_in_the_staff_members_language(manager) -> None:
    """The headings and the labels are the staff member's, as the send log's headings are; the
    guest's own words (a note) stay as written."""
    guest = GuestFactory(first_name="Ayşe", email="ayse@example.com")
    _consent(guest, purpose="data_processing", at=AT)
    guest_record_consent(
        guest=guest,
        purpose="marketing",
        channel="email",
        granted=False,
        source="booking",
        at=AT + dt.timedelta(days=1),
        note="at the desk",
    )
    url = reverse("exports:consents", args=[guest.pk])
    manager.cookies["django_language"] = "tr"
    turkish = _rows(manager.get(url))
    assert list(turkish[0]) == [
        "Misafir no",
        "Misafir",
        "Kaydedilme zamanı",
        "Amaç",
        "Kanal",
        "Verildi",
        "Kaynak",
        "Metin sürümü",
        "Not",
        "Kaydeden",
    ]
    assert [(r["Amaç"], r["Verildi"], r["Kaynak"], r["Not"]) for r in turkish] == [
        ("Kişisel verilerin işlenmesi (KVKK/GDPR)", "evet", "Personel", ""),
        ("Pazarlama mesajları", "hayır", "Rezervasyon", "at the desk"),
    ]
    manager.cookies["django_language"] = "en"
    english = _rows(manager.get(url))
    assert [(r["Purpose"], r["Granted"], r["Source"]) for r in english] == [
        ("Data processing (KVKK/GDPR)", "yes", "Staff"),
        ("Marketing messages", "no", "Booking"),
    ]


def test_exports_need_the_permission(client, django_user_model) -> None:
    guest = GuestFactory()
    urls = [reverse("exports:newsletter"), reverse("exports:consents", args=[guest.pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response.url
    client.force_login(django_user_model.objects.create_user("desk", password="pw"))
    for url in urls:
        assert client.get(url).status_code == 403


def test_a_signed_in_guest_cannot_export(signed_in) -> None:
    response = signed_in.get(reverse("exports:newsletter"))
    assert response.status_code == 302 and reverse("login") in response.url
