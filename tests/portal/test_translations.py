"""Guest pages speak EN, TR, DE and RU and follow the guest's language (P2)."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from guests.models import Guest

from .conftest import PHONE, ask_for_code, code_in, emails_to, enter_code, sms_to

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ("tr", "de", "ru")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalog(path: Path) -> dict[object, str]:
    with path.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_keeps_the_placeholders(language: str) -> None:
    catalog = _catalog(LOCALE / language / "LC_MESSAGES" / "django.mo")
    assert len(catalog) > 100
    for key, text in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid:
            continue  # the header
        assert text, f"{language}: {msgid!r} is not translated"
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), (
            language,
            msgid,
            text,
        )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext's msgfmt")
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_matches_its_source_and_is_complete(
    language: str, tmp_path: Path
) -> None:
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    fresh = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(fresh), str(po)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    assert _catalog(fresh) == _catalog(po.with_suffix(".mo")), (
        "run msgfmt again: django.mo is older than django.po"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Send me a code"),
        ("tr", "Bana kod gönder"),
        ("de", "Code senden"),
        ("ru", "Получить код"),
    ],
)
def test_the_login_page_speaks_the_chosen_language(
    client: Client, language: str, words: str
) -> None:
    response = client.get(reverse("portal:login"), {"lang": language})
    assert words in response.content.decode()
    assert response["Content-Language"] == language
    assert words in client.get(reverse("portal:login")).content.decode()  # remembered


@pytest.mark.django_db
def test_the_login_page_follows_the_browser_language(client: Client) -> None:
    response = client.get(reverse("portal:login"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert "Code senden" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "sms_words", "page_words"),
    [
        ("tr", "kodunuz", "Konaklamanız"),
        ("de", "ist Ihr Code", "Ihr Aufenthalt"),
        ("ru", "ваш код", "Ваше проживание"),
        ("fr", "is your", "Your stay"),  # no French pages yet: English
    ],
)
def test_the_sms_and_the_page_follow_the_guests_language(
    client: Client, sending, stay, guest: Guest, language: str, sms_words: str, page_words: str
) -> None:
    Guest.objects.filter(pk=guest.pk).update(language=language)
    ask_for_code(client, HTTP_ACCEPT_LANGUAGE="en")
    body = sms_to(PHONE)[-1]
    assert sms_words in body
    enter_code(client, code_in(body))
    page = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en")
    assert page_words in page.content.decode()


@pytest.mark.django_db
def test_the_confirmation_mail_is_in_the_guests_language(signed_in: Client, guest: Guest) -> None:
    Guest.objects.filter(pk=guest.pk).update(language="de")
    signed_in.post(
        reverse("portal:contact"), {"email": "o@example.org", "phone": PHONE, "language": "de"}
    )
    mail = emails_to("o@example.org")[-1]
    assert mail.subject.startswith("Bitte bestätigen Sie Ihre E-Mail-Adresse")
    assert "Der Link ist 3 Tage gültig." in mail.body
    assert mail.language == "de"


@pytest.mark.django_db
def test_changing_the_language_switches_the_page_at_once(signed_in: Client) -> None:
    response = signed_in.post(
        reverse("portal:contact"), {"email": "", "phone": PHONE, "language": "ru"}, follow=True
    )
    content = response.content.decode()
    assert "Ваши данные сохранены." in content and "Ваше проживание" in content
