"""The send log as CSV: the filtered rows under a header, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from channels_out.services import Step, message_send
from crm_messaging.ui.csv import csv_cell
from interfaces.staff.roles import sync_roles

pytestmark = pytest.mark.django_db

EXPORT = reverse("channels_out:message-export")


@pytest.fixture
def operator_client(client, django_user_model):
    sync_roles()
    user = django_user_model.objects.create_user("operator")
    user.groups.add(Group.objects.get(name="Operator"))
    client.force_login(user)
    return client


def rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="sent-messages-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_export_has_a_header_and_only_the_filtered_rows(
    operator_client, accounts, top_up
) -> None:
    top_up(10)
    sms = message_send(
        steps=Step(channel="sms", text="Late checkout confirmed.", to="+905321234567")
    )
    message_send(steps=Step(channel="email", subject="Hi", text="Hello.", to="guest@example.com"))

    header, *body = rows(operator_client.get(EXPORT, {"channel": "sms"}))

    assert header[:5] == ["id", "created (Europe/Istanbul)", "channel", "account", "recipient"]
    assert "text" in header and "credits" in header and "status" in header
    assert [row[0] for row in body] == [str(sms.pk)]
    assert body[0][header.index("text")] == "Late checkout confirmed."


def test_a_body_that_a_spreadsheet_would_run_is_neutralised(
    operator_client, accounts, top_up
) -> None:
    top_up(10)
    message_send(
        steps=Step(
            channel="sms", text='=HYPERLINK("http://evil.example","click")', to="+905321234567"
        )
    )

    header, row = rows(operator_client.get(EXPORT))

    assert row[header.index("text")] == '\'=HYPERLINK("http://evil.example","click")'
    assert row[header.index("recipient")] == "'+905321234567"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"])
def test_every_formula_start_gets_a_quote(text: str) -> None:
    assert csv_cell(text) == "'" + text


def test_ordinary_text_and_numbers_are_left_alone() -> None:
    assert (csv_cell("Hello = world"), csv_cell(3), csv_cell(None)) == ("Hello = world", "3", "")


def test_the_export_opens_in_excel_as_utf8_and_names_its_time_zone(
    operator_client, accounts, top_up, settings
) -> None:
    top_up(10)
    message_send(steps=Step(channel="sms", text="Hoş geldiniz, Ayşe!", to="+905321234567"))

    response = operator_client.get(EXPORT)
    raw = b"".join(response.streaming_content)

    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel reads as UTF-8
    header, row = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    zone = settings.TIME_ZONE
    assert [h for h in header if "(" in h] == [
        f"created ({zone})",
        f"sent at ({zone})",
        f"delivered at ({zone})",
    ]
    assert row[header.index("text")] == "Hoş geldiniz, Ayşe!"


def test_the_headings_are_in_the_readers_language(
    operator_client, accounts, top_up, settings
) -> None:
    top_up(10)
    message_send(steps=Step(channel="sms", text="Hoş geldiniz!", to="+905321234567"))

    operator_client.cookies["django_language"] = "tr"
    turkish, _row = rows(operator_client.get(EXPORT))
    assert turkish[:5] == [
        "no",
        f"oluşturulma zamanı ({settings.TIME_ZONE})",
        "kanal",
        "hesap",
        "alıcı",
    ]
    assert "metin" in turkish and "teslim" in turkish[-1]
    assert "text" not in turkish and "recipient" not in turkish

    operator_client.cookies["django_language"] = "en"
    english, _row = rows(operator_client.get(EXPORT))
    assert english[:5] == [
        "id",
        f"created ({settings.TIME_ZONE})",
        "channel",
        "account",
        "recipient",
    ]
    assert "metin" not in english
