"""With DEBUG off (production, and `make run`'s demo) a missing page and a server error answer
with our own pages in the reader's language — never Django's English technical pages — and
the stylesheet is served without a collectstatic outside production."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_a_missing_staff_page_is_our_404_in_turkish(client) -> None:
    response = client.get("/no-such-screen/", HTTP_ACCEPT_LANGUAGE="tr")

    page = response.content.decode()
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    assert '<html lang="tr">' in page
    assert "Sayfa bulunamadı" in page and "Bugün ekranına git" in page
    assert "Page not found" not in page and "URLconf" not in page


def test_a_missing_guest_page_leads_back_to_the_stay_not_to_the_staff_screens(client) -> None:
    response = client.get("/guest/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page
    assert 'href="/guest/"' in page and "Go to your stay" in page
    assert "Go to Today" not in page


def test_a_server_error_is_our_500_in_the_readers_language(settings) -> None:
    request = RequestFactory().get("/")
    with translation.override("tr"):
        response = server_error(request)

    page = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="tr">' in page
    assert "Bir sorun oluştu" in page and "Traceback" not in page


def test_the_stylesheet_is_served_with_debug_off_without_collectstatic(client, settings) -> None:
    assert settings.DEBUG is False
    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert b"".join(response.streaming_content).strip()
