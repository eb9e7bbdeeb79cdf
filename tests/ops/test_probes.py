"""The probes answer whatever the host name and without the HTTPS redirect; nothing else does."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_domain(settings) -> None:
    """Production as deployed: the hotel's domain only, HTTPS enforced."""
    settings.ALLOWED_HOSTS = ["crm.hotel-lykia.example"]
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_probe_by_the_container_address_over_plain_http_reaches_the_check(
    real_domain: None, path: str
) -> None:
    answer = Client().get(path, HTTP_HOST="10.0.3.7:8000")
    assert answer.status_code in (200, 503)  # the check's own answer: not 400, not 301
    assert answer.status_code == 200 or answer["Content-Type"] == "application/json"


def test_a_page_by_the_container_address_is_still_refused(real_domain: None) -> None:
    assert Client().get("/accounts/login/", HTTP_HOST="10.0.3.7:8000").status_code == 400


def test_a_page_over_plain_http_is_still_redirected(real_domain: None) -> None:
    answer = Client().get("/accounts/login/", HTTP_HOST="crm.hotel-lykia.example")
    assert answer.status_code == 301
    assert answer["Location"].startswith("https://crm.hotel-lykia.example/")


def test_a_path_that_only_begins_like_a_probe_gets_no_exemption(real_domain: None) -> None:
    assert Client().get("/healthz/x", HTTP_HOST="10.0.3.7:8000").status_code == 400
