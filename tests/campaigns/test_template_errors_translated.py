"""The campaign editor's template refusals speak the staff's language: an unknown keyword,
the "__" rule, a Jinja syntax error (Jinja's own words inside a translated sentence), a
control character, the structure checks and a test render that fails."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.rendering import limits, template_error

from .test_screens_support import editor_data, staff_user

pytestmark = pytest.mark.django_db

CASES = [
    ("Merhaba @NAMEX", "Bilinmeyen anahtar kelime @NAMEX (satır 1). Bilinen anahtar kelimeler:"),
    ("Merhaba {{ guest.__class__ }}", "{{ }} veya {% %} içinde “__” kullanılamaz"),
    ("Merhaba\n{% for x in guest %}", "Şablon sözdizimi hatası: "),
    ("Merhaba\x0b@NAME", "Şablon gönderilemeyen bir karakter içeriyor (U+000B)"),
    ("Merhaba {{ guest.nonexistent }}", "Bilinmeyen yer tutucu “guest.nonexistent”"),
    ("{% for x in [1] recursive %}{{ x }}{% endfor %}", "Özyinelemeli döngülere izin verilmez"),
    ("{% for i in range(10**9) %}x{% endfor %}", "Şablon bir sınırı aştı: "),
]


@pytest.mark.parametrize(("text", "says"), CASES)
def test_the_editor_refuses_a_template_in_turkish(accounts, client, text, says) -> None:
    client.force_login(staff_user("Marketing"))
    client.post(reverse("set_language"), {"language": "tr", "next": "/"})

    answer = client.post(reverse("campaigns:campaign-create"), editor_data(texts={"en": text}))

    assert answer.status_code == 200
    english = next(form for form in answer.context["variants"] if form.prefix == "v-en")
    errors = english.errors["text"]
    assert any(says in error for error in errors), errors
    assert not any("(line " in error or "not allowed" in error for error in errors), errors


def test_a_syntax_error_keeps_jinjas_words_and_names_its_line() -> None:
    with translation.override("tr"):
        problem = template_error("Merhaba\n{% for x in guest %}", "text")
    assert problem is not None
    assert problem.startswith("Şablon sözdizimi hatası: ") and problem.endswith("(satır 2).")
    assert "endfor" in problem  # Jinja's own description, as Jinja wrote it


def test_the_same_refusal_reads_in_english_for_english_staff() -> None:
    with translation.override("en"):
        assert template_error("Hi @NAMEX", "text", language="en") == (
            template_error("Hi @NAMEX", "text") or ""
        )
        assert (template_error("Hi @NAMEX", "text") or "").startswith(
            "Unknown keyword @NAMEX (line 1). Known keywords: "
        )


def test_a_template_too_slow_is_refused_in_turkish(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(limits, "clock", lambda: next(ticks) / 1000)  # 1 ms a reading
    source = (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    )
    with translation.override("tr"):
        problem = template_error(source, "text")
    assert problem == "Şablonun oluşturulması 200 ms'den uzun sürdü (satır 1)."
