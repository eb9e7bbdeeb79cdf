"""No staff page opens for a manager or superuser who has not entered his second-step code; the
guests' portal, which a guest opens without any staff session, does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.exceptions import NoReverseMatch
from django_otp.plugins.otp_totp.models import TOTPDevice

from guests.services import guest_record_consent
from interfaces.staff.roles import MANAGER, sync_roles
from tests.factories import GuestFactory
from tests.staff.test_two_factor import PASSWORD, _code, _sign_in

pytestmark = pytest.mark.django_db
PAGE = reverse("staff:two-factor")


@pytest.fixture(autouse=True)
def required(settings) -> None:
    settings.STAFF_TWO_FACTOR = "required"


@pytest.fixture
def manager():
    sync_roles()
    user = get_user_model().objects.create_user("manager", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGER))
    return user


def _sent_to_the_code_page(response: Any) -> bool:
    return response.status_code == 302 and response.url.startswith(f"{PAGE}?next=")


@pytest.mark.parametrize("export", ["newsletter", "consents"])
def test_a_manager_with_only_his_password_gets_no_export_under_guest(manager, export) -> None:
    guest = GuestFactory(last_name="Yılmaz", email="ayse@example.com")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="email", granted=True, source="staff"
    )
    old, new = {
        "newsletter": ("/guest/exports/newsletter.csv", reverse("exports:newsletter")),
        "consents": (
            f"/guest/exports/consents/{guest.pk}.csv",
            reverse("exports:consents", args=[guest.pk]),
        ),
    }[export]
    client = _sign_in(manager)  # the password only
    answer = client.get(old, follow=True)
    assert answer.redirect_chain[-1][0].startswith(f"{PAGE}?next=")
    assert "text/csv" not in answer["Content-Type"]
    assert "Yılmaz".encode() not in answer.content
    # The export's own address asks for the code too; once it is entered, the old link leads
    # to the file.
    assert _sent_to_the_code_page(client.get(new))
    device = TOTPDevice.objects.get(user=manager)
    assert client.post(PAGE, {"code": _code(device)}).status_code == 302
    download = client.get(old, follow=True)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download.redirect_chain == [(new, 301)]
    assert "Yılmaz".encode() in b"".join(download.streaming_content)


def test_the_guests_portal_and_tracked_links_open_without_the_code(manager) -> None:
    client = _sign_in(manager)
    assert client.get(reverse("portal:login")).status_code == 200
    assert client.get(reverse("channels_out:short-link", args=["nothere"])).status_code == 404
    assert _sent_to_the_code_page(client.get(reverse("staff:home")))
    assert _sent_to_the_code_page(client.get("/no-such-page/"))  # its page shows the staff header


def _sample(converter: Any) -> object:
    if isinstance(converter, IntConverter):
        return 1
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    return "x"


def _routes(
    patterns: Sequence[Any], namespace: str = "", converters: dict[str, Any] | None = None
) -> Iterator[str]:
    """Every named URL of the project, filled in with sample arguments."""
    for entry in patterns:
        found = {**(converters or {}), **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from _routes(entry.url_patterns, inner, found)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            kwargs = {key: _sample(converter) for key, converter in found.items()}
            groups = entry.pattern.regex.groupindex
            kwargs.update({key: "x" for key in groups if key not in kwargs})
            try:
                yield reverse(name, kwargs=kwargs or None)
            except NoReverseMatch:  # a regex route taking only some words (the admin's app list)
                continue


def _staff_refusal(response: Any) -> bool:
    """A stranger turned away for want of a staff sign-in (the login page, or 401/403)."""
    if response.status_code in (401, 403):
        return True
    return response.status_code == 302 and response.url.startswith(
        (reverse("login"), reverse("admin:login"))
    )


def test_no_page_needing_a_staff_sign_in_opens_without_the_second_step(manager) -> None:
    """A guard over every URL: whatever a stranger is refused for want of a staff sign-in, a
    superuser who has given only his password is sent to the code page for, GET and POST."""
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    member, stranger = Client(), Client()
    urls = sorted(set(_routes(get_resolver().url_patterns)) - {PAGE})  # the code page itself
    assert "/exports/newsletter.csv" in urls and "/guest/exports/newsletter.csv" in urls
    leaks = []
    for url in urls:
        for method in ("get", "post"):
            # Signed in again before each request: signing out (the staff's or the portal's)
            # must not turn the member into a stranger for the rest of the walk.
            member.force_login(superuser)  # the password only: the session is not verified
            answer = getattr(member, method)(url)
            if _sent_to_the_code_page(answer):
                continue
            refused = getattr(stranger, method)(url)
            same = (answer.status_code, answer.get("Location")) == (
                refused.status_code,
                refused.get("Location"),
            )
            if _staff_refusal(refused) and not same:
                leaks.append(f"{method.upper()} {url} → {answer.status_code}")
    assert leaks == []
