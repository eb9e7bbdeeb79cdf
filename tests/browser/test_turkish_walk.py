"""The Turkish walk in Chromium: a manager who picked Türkçe opens every staff screen of the
demo hotel with a day's traffic and reads no English-only word and no raw code in what the
browser shows (content as entered, marked translate="no", left out)."""

from __future__ import annotations

import pytest

from tests.staff import turkish_walk
from tests.staff.turkish_walk import EDITOR_PANELS, Checker

pytestmark = pytest.mark.django_db(transaction=True)

READ_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[translate="no"], script, style, template, textarea').forEach(e => e.remove());
  document.body.appendChild(copy); copy.hidden = false;
  const text = copy.innerText; copy.remove(); return text;
}"""


def test_a_turkish_manager_reads_every_screen_in_turkish(page, login_as, live_server) -> None:
    demo = turkish_walk.seed_demo_with_history()
    login_as("Manager")
    page.context.add_cookies([{"name": "django_language", "value": "tr", "url": live_server.url}])
    checker = Checker()
    findings, opened = [], 0
    for name, path in turkish_walk.screens(demo):
        if name in EDITOR_PANELS:
            continue
        response = page.goto(path)
        assert response is not None and response.status == 200, (name, path)
        assert response.headers.get("content-language") == "tr", name
        findings += checker.check(name, page.evaluate(READ_TEXT))
        opened += 1

    assert opened >= 25
    assert not findings, "\n".join(str(f) for f in findings)
