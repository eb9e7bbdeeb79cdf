"""The signed unsubscribe link and RFC 8058 one-click unsubscribe (P3, G6)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from guests.models import ConsentRecord, Guest
from guests.selectors import consent_current, guest_block_reason
from guests.services import guest_merge, guest_record_consent
from interfaces.portal import links, tokens
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber(db) -> Guest:
    guest = GuestFactory(first_name="Ayşe", language="tr", email="ayse@example.com")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="email", granted=True, source="staff"
    )
    guest_record_consent(
        guest=guest, purpose="marketing", channel="sms", granted=True, source="staff"
    )
    return guest


def _path(url: str) -> str:
    return urlsplit(url).path


def _marketing(guest: Guest, channel: str = "email") -> bool | None:
    record = consent_current(guest).get(("marketing", channel))
    return None if record is None else record.granted


def test_the_link_is_absolute_signed_and_per_guest_and_channel(subscriber, settings) -> None:
    settings.PUBLIC_BASE_URL = "https://hotel.example"
    url = links.unsubscribe_url(subscriber, "email")
    assert url.startswith("https://hotel.example/guest/unsubscribe/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert tokens.read_unsubscribe_token(token) == (subscriber.pk, "email")
    assert links.unsubscribe_url(subscriber, "sms") != url
    assert links.unsubscribe_url(GuestFactory(), "email") != url
    assert links.portal_url() == "https://hotel.example/guest/"


def _records(guest: Guest) -> list[tuple[str, str, bool, str]]:
    return list(
        ConsentRecord.objects.filter(guest=guest)
        .order_by("pk")
        .values_list("purpose", "channel", "granted", "source")
    )


def test_following_the_link_only_asks_and_changes_nothing(subscriber) -> None:
    """A mail scanner or a link preview fetches the link: nobody is unsubscribed by a GET."""
    path = _path(links.unsubscribe_url(subscriber, "email"))
    before = _records(subscriber)
    response = Client().get(path)
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<form method="post" action="{path}">' in content
    assert 'name="csrfmiddlewaretoken"' in content and 'value="unsubscribe"' in content
    assert "kampanya ve haberlerimizi almayı bırakmak istiyor musunuz?" in content
    assert "Aboneliği iptal et" in content  # the one button, in his language
    assert subscriber.first_name not in content and subscriber.email not in content
    assert _records(subscriber) == before
    assert _marketing(subscriber, "email") is True


def test_the_pages_button_opts_out_at_once_with_a_consent_record(subscriber) -> None:
    path = _path(links.unsubscribe_url(subscriber, "email"))
    client = Client(enforce_csrf_checks=True)  # as the guest's browser: the page gives the token
    token = _csrf(client.get(path).content.decode())
    before = ConsentRecord.objects.filter(guest=subscriber).count()
    response = client.post(path, {"action": "unsubscribe", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert ConsentRecord.objects.filter(guest=subscriber).count() == before + 1
    assert _marketing(subscriber, "email") is False
    assert _marketing(subscriber, "sms") is True  # only the channel of the link
    record = consent_current(subscriber)[("marketing", "email")]
    assert (record.source, record.recorded_by) == ("unsubscribe_link", None)
    assert guest_block_reason(subscriber, purpose="marketing", channel="email") == "opted out"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_the_page_is_in_the_guests_language_and_offers_to_opt_back_in(subscriber) -> None:
    path = _path(links.unsubscribe_url(subscriber, "email"))
    client = Client()
    asked = client.get(path, HTTP_ACCEPT_LANGUAGE="de")
    assert asked["Content-Language"] == "tr" and 'lang="tr"' in asked.content.decode()
    page = client.post(path, {"action": "unsubscribe"}, HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "tr"
    assert 'lang="tr"' in page.content.decode()
    assert 'value="resubscribe"' in page.content.decode()
    assert "Artık E-posta ile kampanya ve haber almayacaksınız." in page.content.decode()
    client.post(path, {"action": "resubscribe"})
    assert _marketing(subscriber, "email") is True
    assert consent_current(subscriber)[("marketing", "email")].source == "unsubscribe_link"


def test_pressing_the_button_again_is_harmless(subscriber) -> None:
    path = _path(links.unsubscribe_url(subscriber, "email"))
    Client().post(path, {"action": "unsubscribe"})
    count = ConsentRecord.objects.filter(guest=subscriber).count()
    assert Client().post(path, {"action": "unsubscribe"}).status_code == 200
    assert Client().get(path).status_code == 200
    assert (
        Client()
        .post(
            reverse("portal:unsubscribe-one-click", args=[path.split("/")[-2]]),
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        .status_code
        == 200
    )
    assert ConsentRecord.objects.filter(guest=subscriber).count() == count
    assert _marketing(subscriber, "email") is False


def _swap_payload(token: str, payload_from: str) -> str:
    """The payload of one token with the signature of another."""
    return payload_from.rsplit(":", 1)[0] + ":" + token.rsplit(":", 1)[1]


@pytest.mark.parametrize(
    "tamper", ["signature", "guest", "channel", "garbage", "other key", "other purpose"]
)
def test_a_tampered_link_is_refused_and_changes_nothing(subscriber, tamper: str) -> None:
    token = tokens.unsubscribe_token(subscriber.pk, "email")
    other = GuestFactory()
    forged = {
        "signature": token[:-3] + ("abc" if not token.endswith("abc") else "xyz"),
        "guest": _swap_payload(token, tokens.unsubscribe_token(other.pk, "email")),
        "channel": _swap_payload(token, tokens.unsubscribe_token(subscriber.pk, "sms")),
        "garbage": "not-a-token",
        "other key": signing.Signer(key="not-our-secret", salt=tokens.SALT_UNSUBSCRIBE).sign_object(
            {"g": other.pk, "c": "email"}
        ),
        "other purpose": tokens.login_link_token(subscriber.pk),
    }[tamper]
    before = ConsentRecord.objects.count()
    for name in ("portal:unsubscribe", "portal:unsubscribe-one-click"):
        response = Client().post(reverse(name, args=[forged]))
        assert response.status_code == 400
    assert Client().get(reverse("portal:unsubscribe", args=[forged])).status_code == 400
    assert ConsentRecord.objects.count() == before
    assert _marketing(subscriber) is True and _marketing(other) is None


def test_one_click_post_needs_no_csrf_token(subscriber) -> None:
    client = Client(enforce_csrf_checks=True)  # as a mailbox provider posts it
    url = links.one_click_unsubscribe_url(subscriber)
    response = client.post(
        _path(url),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert _marketing(subscriber) is False


def test_only_the_one_click_endpoint_skips_csrf(subscriber) -> None:
    client = Client(enforce_csrf_checks=True)
    path = _path(links.unsubscribe_url(subscriber))
    assert client.post(path, {"action": "resubscribe"}).status_code == 403


def test_a_get_on_the_one_click_address_only_asks(subscriber) -> None:
    response = Client().get(_path(links.one_click_unsubscribe_url(subscriber)))  # a mail scanner
    assert response.status_code == 200
    # The page's button posts to the signed link's address, with the page's CSRF token.
    assert f'action="{_path(links.unsubscribe_url(subscriber))}"' in response.content.decode()
    assert _marketing(subscriber) is True


def test_the_button_of_the_one_click_address_page_opts_out(subscriber) -> None:
    client = Client(enforce_csrf_checks=True)  # a person who opened the address in a browser
    page = client.get(_path(links.one_click_unsubscribe_url(subscriber))).content.decode()
    action = re.search(r'<form method="post" action="([^"]+)">', page)
    assert action
    answer = client.post(
        action.group(1), {"action": "unsubscribe", "csrfmiddlewaretoken": _csrf(page)}
    )
    assert answer.status_code == 200
    assert _marketing(subscriber) is False


# RFC 8058 section 8's example: a mailbox provider's one-click POST as multipart/form-data.
RFC_8058_MULTIPART = (
    b"-----FormBoundaryjWmhtjORrn\r\n"
    b'Content-Disposition: form-data; name="List-Unsubscribe"\r\n'
    b"\r\n"
    b"One-Click\r\n"
    b"-----FormBoundaryjWmhtjORrn--\r\n"
)
MULTIPART = "multipart/form-data; boundary=---FormBoundaryjWmhtjORrn"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),  # Gmail, Yahoo
        ("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded; charset=utf-8"),
        (RFC_8058_MULTIPART, MULTIPART),
    ],
    ids=["form-encoded", "form-encoded with charset", "multipart"],
)
def test_a_mailbox_providers_one_click_post_opts_out(subscriber, body, content_type) -> None:
    response = Client(enforce_csrf_checks=True).post(
        _path(links.one_click_unsubscribe_url(subscriber)), data=body, content_type=content_type
    )
    assert response.status_code == 200
    assert _marketing(subscriber) is False
    assert consent_current(subscriber)[("marketing", "email")].source == "unsubscribe_link"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "application/x-www-form-urlencoded"),
        ("List-Unsubscribe=garbage", "application/x-www-form-urlencoded"),
        ("List-Unsubscribe=one-click", "application/x-www-form-urlencoded"),
        ("List-Unsubscribe=One-Click&action=resubscribe", "application/x-www-form-urlencoded"),
        ("List-Unsubscribe=One-Click&List-Unsubscribe=x", "application/x-www-form-urlencoded"),
        ('{"List-Unsubscribe": "One-Click"', "application/json"),
        (RFC_8058_MULTIPART.replace(b"One-Click", b"Nope"), MULTIPART),
    ],
    ids=["empty", "garbage", "lower case", "extra field", "two values", "broken JSON", "multipart"],
)
def test_any_other_post_body_is_refused_and_changes_nothing(subscriber, body, content_type) -> None:
    before = _records(subscriber)
    response = Client().post(
        _path(links.one_click_unsubscribe_url(subscriber)), data=body, content_type=content_type
    )
    assert response.status_code == 400
    assert "List-Unsubscribe=One-Click" in response.content.decode()
    assert "Hiçbir şey değiştirilmedi" in response.content.decode()  # his language: Turkish
    assert _records(subscriber) == before
    assert _marketing(subscriber) is True


def test_the_headers_name_the_one_click_address(subscriber, settings) -> None:
    settings.PUBLIC_BASE_URL = "https://hotel.example"
    headers = links.unsubscribe_headers(subscriber)
    assert headers == {
        "List-Unsubscribe": f"<{links.one_click_unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert headers["List-Unsubscribe"].startswith("<https://hotel.example/guest/unsubscribe/")
    settings.PORTAL_UNSUBSCRIBE_MAILTO = "unsubscribe@hotel.example"
    value = links.unsubscribe_headers(subscriber)["List-Unsubscribe"]
    assert (
        value.startswith("<https://")
        and f"<mailto:unsubscribe@hotel.example?subject=unsubscribe%20{subscriber.pk}>" in value
    )
    assert "\n" not in value and "\r" not in value


def test_a_link_sent_before_a_merge_still_works(subscriber) -> None:
    path = _path(links.unsubscribe_url(subscriber))
    survivor = GuestFactory(first_name="Ayşe", language="tr")
    guest_merge(source=subscriber, target=survivor)
    assert Client().get(path).status_code == 200
    assert _marketing(survivor) is True  # the merged consent: the GET only asked
    assert Client().post(path, {"action": "unsubscribe"}).status_code == 200
    assert _marketing(survivor) is False


@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp", "viber"])
def test_the_links_built_once_per_route_are_what_reverse_gives(channel) -> None:
    guest = GuestFactory()
    token = tokens.unsubscribe_token(guest.pk, channel)
    assert links.unsubscribe_url(guest, channel) == links.absolute(
        reverse("portal:unsubscribe", args=[token])
    )
    assert links.one_click_unsubscribe_url(guest, channel) == links.absolute(
        reverse("portal:unsubscribe-one-click", args=[token])
    )
    assert links.portal_url() == links.absolute(reverse("portal:home"))
