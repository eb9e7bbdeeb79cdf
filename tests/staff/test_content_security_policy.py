"""Every staff and guest page carries the Content-Security-Policy and holds no inline script or style.

The staff side is crawled as a superuser from the home page: every same-site link and htmx
GET target found on a page is fetched in turn (state changes are POSTs, so following links
changes nothing). The guest side is walked the way a guest goes: login, code, his page, the
e-mail confirmation and unsubscribe links.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStep, MessageVariant, Source, Trigger
from channels_out.services import Step, message_send
from interfaces.portal.links import unsubscribe_url
from tests.factories import GuestFactory, ReservationFactory
from tests.portal.conftest import code_in, emails_to, sms_to

pytestmark = pytest.mark.django_db

INLINE = [
    ("inline <script>", re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)),
    ("<style> element", re.compile(r"<style[\s>]", re.I)),
    ("style attribute", re.compile(r"<[a-z][^>]*\sstyle=", re.I)),
    ("event handler attribute", re.compile(r"<[a-z][^>]*\son[a-z]+=", re.I)),
    ("javascript: URL", re.compile(r"""(?:href|src|action)=["']?\s*javascript:""", re.I)),
]
LINK = re.compile(r"""(?:href|hx-get|src)="([^"#]+)""")
# The e-mail preview frame has a policy of its own (tested below).
SKIP = ("/admin/", "/static/", "/i18n/", "/accounts/logout", "/hooks/", "/campaigns/email-preview/")


def _problems(html: str) -> list[str]:
    return [name for name, pattern in INLINE if pattern.search(html)]


def _assert_strict(response: Any, url: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, url
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
    if response.headers.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        assert not _problems(html), (url, _problems(html))


@pytest.fixture
def hotel_data(accounts: Any, top_up: Any) -> dict[str, Any]:
    top_up(50)
    guest = GuestFactory(first_name="Oliver", phone="+905321234567", email="o@example.org")
    arrival = timezone.localdate() + dt.timedelta(days=3)
    stay = ReservationFactory(
        booker=guest, arrival=arrival, departure=arrival + dt.timedelta(days=4)
    )
    campaign = Campaign.objects.create(
        name="Welcome", source=Source.GUESTS, trigger=Trigger.OPERATOR
    )
    CampaignStep.objects.create(campaign=campaign, position=0, channel="email")
    MessageVariant.objects.create(
        campaign=campaign,
        language="en",
        text="Hello @NAME",
        subject="Hello",
        html='<p style="color:#0b6e99">Hello @NAME</p>',
    )
    message_send(steps=Step(channel="sms", text="Your room is ready."), guest=guest)
    return {"guest": guest, "stay": stay, "campaign": campaign}


def test_every_staff_page_has_the_policy_and_no_inline_code(hotel_data: dict[str, Any]) -> None:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    start = [
        reverse("staff:home"),
        reverse("guests:reservation-detail", args=[hotel_data["stay"].pk]),
        reverse("guests:guest-detail", args=[hotel_data["guest"].pk]),
        reverse("campaigns:campaign-edit", args=[hotel_data["campaign"].pk]),
    ]
    queue, seen = deque(start), set(start)
    fetched = 0
    while queue and fetched < 250:
        url = queue.popleft()
        response = client.get(url)
        fetched += 1
        assert response.status_code in (200, 302, 404), (url, response.status_code)
        if response.status_code != 200 or hasattr(response, "streaming_content"):
            continue
        _assert_strict(response, url)
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            continue
        for found in LINK.findall(response.content.decode()):
            target = urljoin(url, found.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc and parts.netloc != "testserver":
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith(SKIP) or path in seen or "export" in path:
                continue
            seen.add(path)
            queue.append(path)
    assert fetched > 25  # the crawl reached the screens, not just the start pages
    for name in ("login", "password_reset"):
        _assert_strict(Client().get(reverse(name)), name)


def test_the_admin_keeps_working_with_inline_styles_but_no_inline_scripts(
    hotel_data: dict[str, Any],
) -> None:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    for url in (
        reverse("admin:index"),
        reverse("admin:guests_guest_changelist"),
        reverse("admin:guests_guest_change", args=[hotel_data["guest"].pk]),
        reverse("admin:channels_out_outboundmessage_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response.headers["Content-Security-Policy"]
        assert "style-src 'self' 'unsafe-inline'" in policy, url
        assert "script-src 'self'" in policy and "unsafe-eval" not in policy, url
        scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
        assert all('type="application/json"' in attrs for attrs in scripts), (url, scripts)


def test_an_emails_preview_keeps_its_styles_in_a_sandboxed_frame(
    hotel_data: dict[str, Any],
) -> None:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    campaign, guest = hotel_data["campaign"], hotel_data["guest"]
    fragment = client.get(reverse("campaigns:recipient-message", args=[campaign.pk, guest.pk]))
    html = fragment.content.decode()
    assert not _problems(html)
    frame = re.search(r'<iframe[^>]*\ssandbox=""[^>]*\ssrc="([^"]+)"', html)
    assert frame, html
    email = client.get(frame.group(1))
    assert email.status_code == 200
    assert 'style="color:#0b6e99"' in email.content.decode()
    policy = email.headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "sandbox" in policy
    assert "frame-ancestors 'self'" in policy
    # Bound to the member of staff who saw it.
    other = Client()
    other.force_login(get_user_model().objects.create_superuser("two", "t@example.com", "pw"))
    assert other.get(frame.group(1)).status_code == 404


def test_every_guest_page_has_the_policy_and_no_inline_code(hotel_data: dict[str, Any]) -> None:
    guest = hotel_data["guest"]
    client = Client()
    pages = [reverse("portal:login")]
    client.post(reverse("portal:login"), {"phone": guest.phone})
    pages.append(reverse("portal:login-code"))
    link = re.search(r"https?://\S+(/guest/login/link/\S+/)", sms_to(guest.phone)[-1])
    assert link
    pages.append(link.group(1))
    for url in pages:
        _assert_strict(client.get(url), url)
    client.post(reverse("portal:login-code"), {"code": code_in(sms_to(guest.phone)[-1])})
    _assert_strict(client.get(reverse("portal:home")), "home")
    client.post(
        reverse("portal:contact"),
        {"email": "new@example.org", "phone": guest.phone, "language": "en"},
    )
    confirm = re.search(
        r"https?://\S+(/guest/email/confirm/\S+/)", emails_to("new@example.org")[-1].body
    )
    assert confirm
    visitor = Client()
    _assert_strict(visitor.get(confirm.group(1)), "confirm page")
    _assert_strict(visitor.post(confirm.group(1)), "confirmed page")
    unsubscribe = urlsplit(unsubscribe_url(guest)).path
    _assert_strict(Client().get(unsubscribe), "unsubscribe")
    _assert_strict(Client().post(unsubscribe, {"action": "unsubscribe"}), "unsubscribed page")
    _assert_strict(Client().get(unsubscribe + "one-click/"), "one-click unsubscribe")
    _assert_strict(Client().get(reverse("portal:login-link", args=["bad"])), "invalid link")
