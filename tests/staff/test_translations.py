"""The staff screens speak Turkish: a language chosen in the header sticks, and the catalogue is complete."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import translation

from channels_out.services import Step, message_send
from crm_messaging.i18n import lower_label
from guests.models import Reservation
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory, ReservationFactory

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "tr" / "LC_MESSAGES" / "django.po"
SET_LANGUAGE = reverse("set_language")
CAMPAIGNS = reverse("campaigns:campaign-list")
RESERVATIONS = reverse("guests:reservation-list")
SEND_LOG = reverse("channels_out:message-list")
CREDITS = reverse("channels_out:credits")


# --- the catalogue -------------------------------------------------------------------------------


@dataclass
class Entry:
    """One message of a .po file: its keys, its translations and its flags."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def read_po(path: Path) -> list[Entry]:
    """Read the entries of a .po file (obsolete ``#~`` ones left out), without gettext's tools."""
    entries: list[Entry] = []
    entry: Entry | None = None
    last: str | None = None

    def close() -> None:
        nonlocal entry
        if entry is not None and (entry.msgid or entry.msgstr):
            entries.append(entry)
        entry = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                close()
            continue
        if line.startswith("#"):
            if entry is not None and (entry.msgid or entry.msgstr):
                close()
            entry = entry or Entry(line=number)
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        entry = entry or Entry(line=number)
        match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")', line)
        if match:
            keyword, index, text = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            last = keyword
            if keyword == "msgid":
                entry.msgid = text
            elif keyword == "msgid_plural":
                entry.msgid_plural = text
            elif keyword == "msgctxt":
                entry.msgctxt = text
            else:
                entry.msgstr[int(index or 0)] = text
                last = f"msgstr[{int(index or 0)}]"
        elif line.startswith('"') and last is not None:
            text = ast.literal_eval(line)
            if last == "msgid":
                entry.msgid += text
            elif last == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + text
            elif last == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + text
            else:
                index = int(last[7:-1])
                entry.msgstr[index] += text
        else:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
    close()
    return entries


def test_the_turkish_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    entries = [
        entry for entry in read_po(CATALOGUE) if entry.msgid
    ]  # the header has an empty msgid
    assert len(entries) > 500  # the guest portal and the staff screens
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    untranslated = [
        entry.msgid for entry in entries if not entry.msgstr or not all(entry.msgstr.values())
    ]
    assert fuzzy == [], f"fuzzy in {CATALOGUE.name}: {fuzzy[:10]}"
    assert untranslated == [], f"untranslated in {CATALOGUE.name}: {untranslated[:10]}"


def test_every_turkish_plural_has_both_forms() -> None:
    plurals = [entry for entry in read_po(CATALOGUE) if entry.msgid_plural]
    assert plurals
    assert [entry.msgid for entry in plurals if sorted(entry.msgstr) != [0, 1]] == []


def test_the_reader_sees_fuzzy_and_empty_entries(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr "Language: tr\\n"\n\n'
        '#, fuzzy, python-format\nmsgid "Hello %(name)s"\nmsgstr "Merhaba %(name)s"\n\n'
        'msgid "Two"\n"lines"\nmsgstr ""\n\n'
        'msgid "%(n)s night"\nmsgid_plural "%(n)s nights"\nmsgstr[0] "%(n)s gece"\nmsgstr[1] ""\n\n'
        '#~ msgid "Gone"\n#~ msgstr "Gitti"\n',
        encoding="utf-8",
    )
    entries = {entry.msgid: entry for entry in read_po(po)}
    assert set(entries) == {"", "Hello %(name)s", "Twolines", "%(n)s night"}
    assert "fuzzy" in entries["Hello %(name)s"].flags
    assert entries["Twolines"].msgstr == {0: ""}
    assert entries["%(n)s night"].msgstr == {0: "%(n)s gece", 1: ""}


# --- choosing the language -----------------------------------------------------------------------


def heading(html: str) -> str:
    """The page's <h1>, as text."""
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match is not None
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.fixture
def manager(client: Client, django_user_model: Any) -> Any:
    sync_roles()
    user = django_user_model.objects.create_user("manager", first_name="Melis")
    user.groups.add(Group.objects.get(name="Manager"))
    client.force_login(user)
    return user


@pytest.fixture
def choose(client: Client) -> Callable[[str], Any]:
    """Pick a language in the header's form, as a member of staff does."""

    def pick(language: str, next_url: str = CAMPAIGNS) -> Any:
        return client.post(SET_LANGUAGE, {"language": language, "next": next_url})

    return pick


@pytest.mark.django_db
def test_the_header_offers_the_staff_languages_in_a_labelled_form_with_csrf(
    client: Client, manager: Any
) -> None:
    html = client.get(CAMPAIGNS).content.decode()
    form = re.search(
        r'<form class="language" method="post" action="([^"]+)">(.*?)</form>', html, re.S
    )
    assert form is not None and form.group(1) == SET_LANGUAGE
    assert 'name="csrfmiddlewaretoken"' in form.group(2)
    assert '<label for="staff-language"' in form.group(2) and 'id="staff-language"' in form.group(2)
    options = re.findall(
        r'<option value="(\w+)" lang="\w+"( selected)?>([^<]+)</option>', form.group(2)
    )
    # German and Russian are guest-page languages; the staff screens are not translated into them.
    assert [(code, name) for code, _, name in options] == [("en", "English"), ("tr", "Türkçe")]
    assert [code for code, selected, _ in options if selected] == ["en"]


@pytest.mark.django_db
def test_a_manager_who_chooses_turkish_sees_the_campaign_list_in_turkish(
    client, manager, choose
) -> None:
    response = choose("tr")
    assert response.status_code == 302 and response["Location"] == CAMPAIGNS
    page = client.get(CAMPAIGNS)
    html = page.content.decode()
    assert page["Content-Language"] == "tr" and '<html lang="tr">' in html
    assert heading(html) == "Kampanyalar" and "Yeni kampanya" in html
    assert "Henüz aktif kampanya yok." in html and "İlkini oluşturun" in html
    assert "Gönderilen mesajlar" in html and "Oturumu kapat" in html  # the navigation and header
    assert (
        "New campaign" not in html
        and "No active campaign yet." not in html
        and "Sent messages" not in html
    )


@pytest.mark.django_db
def test_the_reservation_list_in_turkish(client, manager, choose, hotel) -> None:
    ReservationFactory(
        booker=GuestFactory(first_name="Ayşe", last_name="Yılmaz"), arrival=hotel.business_date
    )
    choose("tr")
    html = client.get(RESERVATIONS).content.decode()
    assert heading(html).startswith("Rezervasyonlar sistem tarihi ")
    assert "Bugünkü girişler" in html and "Konaklayanlar" in html and "Rezervasyon sahibi" in html
    assert ">Onaylı</span>" in html  # the reservation's status
    assert "Arriving today" not in html and "Booker" not in html and ">Confirmed<" not in html


@pytest.mark.django_db
def test_the_send_log_in_turkish(client, manager, choose, accounts) -> None:
    message_send(
        steps=Step(channel="sms", text="Odanız hazır.", to="+905321234567")
    )  # no credits: skipped
    choose("tr", SEND_LOG)
    html = client.get(SEND_LOG).content.decode()
    assert (
        heading(html) == "Gönderilen mesajlar"
        and "Tüm durumlar" in html
        and "CSV dışa aktar" in html
    )
    assert ">Atlandı</span>" in html and "Kredi yok" in html
    assert "All statuses" not in html and "Export CSV" not in html and ">Skipped<" not in html


@pytest.mark.django_db
def test_the_credits_page_in_turkish(client, manager, choose) -> None:
    choose("tr", CREDITS)
    html = client.get(CREDITS).content.decode()
    assert (
        heading(html) == "Krediler"
        and "Kredi satın al" in html
        and "Siparişler ve faturalar" in html
    )
    assert "Açılış bakiyesi" in html and "Kanala göre harcanan krediler" in html
    assert "Buy credits" not in html and "Opening balance" not in html


@pytest.mark.django_db
def test_the_choice_sticks_until_staff_choose_again(client, manager, choose) -> None:
    choose("tr", RESERVATIONS)
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "tr"
    for url in (RESERVATIONS, CAMPAIGNS, SEND_LOG, CREDITS, reverse("staff:home")):
        assert client.get(url)["Content-Language"] == "tr", url
    assert 'value="tr" lang="tr" selected' in client.get(CAMPAIGNS).content.decode()
    choose("en")
    html = client.get(CAMPAIGNS).content.decode()
    assert "New campaign" in html and "Yeni kampanya" not in html


@pytest.mark.django_db
def test_the_login_page_offers_the_language_too(client: Client) -> None:
    client.post(SET_LANGUAGE, {"language": "tr", "next": reverse("login")})
    html = client.get(reverse("login")).content.decode()
    assert "Oturum aç" in html and "Kullanıcı adı" in html and "Parola" in html
    assert 'id="staff-language"' in html


@pytest.mark.django_db
def test_a_refusal_reads_whole_in_turkish(client, manager, choose, hotel) -> None:
    stay = ReservationFactory(arrival=hotel.business_date, status=Reservation.Status.CANCELLED)
    choose("tr")
    response = client.post(reverse("guests:reservation-check-in", args=[stay.pk]), follow=True)
    html = response.content.decode()
    assert (
        f"{stay.number} rezervasyonuna check-in yapılamaz: durumu “iptal edildi”; "
        "yalnızca “onaylı” durumundaki rezervasyona check-in yapılabilir."
    ) in html


def test_a_label_is_lower_cased_the_turkish_way() -> None:
    with translation.override("tr"):
        assert lower_label("İptal edildi") == "iptal edildi"
        assert lower_label("IŞIK") == "ışık"
    assert lower_label("Checked in") == "checked in"


def test_turkish_dates_keep_django_month_names() -> None:
    """A staff word in the catalogue must not take over a month: "16 Mayıs 1969", not "16 Yetkiler 1969"."""
    import datetime

    from django.utils.formats import date_format

    with translation.override("tr"):
        assert date_format(datetime.date(1969, 5, 16), "j F Y") == "16 Mayıs 1969"
        assert date_format(datetime.date(2026, 5, 4), "j M Y") == "4 May 2026"


def test_the_catalogue_does_not_redefine_a_month_name() -> None:
    months = set(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ]
    )
    clashes = [
        entry.msgid for entry in read_po(CATALOGUE) if entry.msgid in months and not entry.msgctxt
    ]
    assert clashes == []
