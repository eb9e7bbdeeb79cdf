"""Our own open pixel and click redirects (E3): signed, no open redirect, scanners not counted."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from channels_out import tracking
from channels_out.models import Engagement, OutboundMessage
from channels_out.services import Step, message_send
from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

HUMAN = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari"
OFFER = "https://offers.example.com/spring?room=sea&amp;nights=3"


@pytest.fixture
def sent(accounts, deliver_queued, settings) -> OutboundMessage:
    settings.PUBLIC_BASE_URL = "https://crm.lykiabay.example"
    guest = GuestFactory(email="ayse@example.com")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="email", granted=True, source=ConsentSource.STAFF
    )
    message = message_send(
        steps=Step(
            channel="email",
            subject="Spring",
            html=f'<html><body><a href="{OFFER}">Offer</a> '
            '<a href="mailto:desk@lykiabay.example">mail us</a> '
            '<a href="https://crm.lykiabay.example/guest/u/abc/">unsubscribe</a></body></html>',
        ),
        purpose=ConsentPurpose.MARKETING,
        guest=guest,
    )
    assert message.tracked
    with time_machine.travel(timezone.now() - dt.timedelta(hours=1), tick=False):
        deliver_queued()
    message.refresh_from_db()
    return message


def links_in(message: OutboundMessage) -> list[str]:
    html = tracking.tracked_html(message, message.html_body)
    return re.findall(r'href="([^"]+)"', html)


def test_only_outside_web_links_are_wrapped(sent) -> None:
    click, mailto, own = links_in(sent)
    assert click.startswith("https://crm.lykiabay.example/t/c/")
    assert mailto == "mailto:desk@lykiabay.example"
    assert own == "https://crm.lykiabay.example/guest/u/abc/"  # tokens never wrapped


def test_a_click_redirects_to_the_original_url_and_counts_once_as_human(sent) -> None:
    click = links_in(sent)[0].replace("&amp;", "&")
    path = click.removeprefix("https://crm.lykiabay.example")

    response = Client().get(path, HTTP_USER_AGENT=HUMAN)

    assert response.status_code == 302
    assert response["Location"] == "https://offers.example.com/spring?room=sea&nights=3"
    sent.refresh_from_db()
    assert sent.clicked_at is not None and sent.opened_at is not None
    engagement = Engagement.objects.get()
    assert (engagement.kind, engagement.human, engagement.url) == (
        "click",
        True,
        "https://offers.example.com/spring?room=sea&nights=3",
    )


def test_a_tampered_link_is_refused_and_never_redirects(sent) -> None:
    token = tracking.click_token(sent.pk, "https://offers.example.com/")
    forged = signing.dumps({"m": sent.pk, "u": "https://evil.example/"}, salt="another")
    client = Client(raise_request_exception=False)
    for bad in (token[:-2] + "xx", forged, "nonsense", token.replace(":", "")):
        response = client.get(f"/t/c/{bad}/", HTTP_USER_AGENT=HUMAN)
        assert response.status_code == 400
        assert "Location" not in response
    assert not Engagement.objects.exists()


def test_a_signed_link_to_anything_but_the_web_is_refused(sent) -> None:
    for url in ("javascript:alert(1)", "//evil.example/", "https://crm.lykiabay.example/admin/"):
        token = signing.dumps({"m": sent.pk, "u": url}, salt=tracking._CLICK_SALT, compress=True)
        assert Client().get(f"/t/c/{token}/").status_code == 400


def test_scanners_and_prefetches_are_kept_but_not_counted(sent, settings) -> None:
    path = links_in(sent)[0].replace("&amp;", "&").removeprefix("https://crm.lykiabay.example")
    client = Client()
    client.get(path, HTTP_USER_AGENT="Mozilla/5.0 (compatible; Barracuda Sentinel)")
    client.get(path)  # no user agent at all
    client.head(path, HTTP_USER_AGENT=HUMAN)  # a HEAD only looks
    settings.SCANNER_PREFETCH_SECONDS = 7200  # sent an hour ago: inside the pre-fetch window
    client.get(path, HTTP_USER_AGENT=HUMAN)

    sent.refresh_from_db()
    assert sent.clicked_at is None and sent.opened_at is None
    assert list(Engagement.objects.values_list("human", flat=True)) == [False, False, False]


def test_the_pixel_counts_a_human_open_and_answers_a_gif_even_when_forged(sent) -> None:
    pixel = tracking.open_url(sent.pk).removeprefix("https://crm.lykiabay.example")
    response = Client().get(pixel, HTTP_USER_AGENT=HUMAN)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    sent.refresh_from_db()
    assert sent.opened_at is not None

    forged = Client().get(f"/t/o/{sent.pk}:forged.gif", HTTP_USER_AGENT=HUMAN)
    assert forged.status_code == 200
    assert Engagement.objects.count() == 1
