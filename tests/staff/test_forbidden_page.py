"""A refused screen answers 403 in the staff layout — the header, the menu of what the user may
open, and the reason in words staff know (the roles the screen is for, in their language,
never a permission's code) — and every page names the site's icon."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Group
from django.http import HttpResponseServerError
from django.urls import reverse
from django.utils.log import log_response

from interfaces.staff.roles import sync_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def front_desk(client, django_user_model):  # type: ignore[no-untyped-def]
    sync_roles()
    user = django_user_model.objects.create_user("fd", first_name="Fatma")
    user.groups.add(Group.objects.get(name="Front desk"))
    client.force_login(user)
    return user


def test_a_refused_screen_is_a_403_in_the_staff_layout_with_the_reason(client, front_desk) -> None:
    response = client.get(reverse("campaigns:campaign-list"))

    page = response.content.decode()
    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    assert 'class="topbar"' in page and "Fatma" in page
    assert f'href="{reverse("guests:reservation-list")}"' in page  # the menu of what she may open
    assert "You may not open this page" in page
    assert "This page is for: Manager, Marketing, Operator." in page
    assert "campaigns.view_campaign" not in page


def test_the_reason_is_in_turkish_for_turkish_staff(client, front_desk) -> None:
    response = client.get(reverse("channels_out:credits"), HTTP_ACCEPT_LANGUAGE="tr")

    page = response.content.decode()
    assert response.status_code == 403
    assert "Bu sayfayı açma yetkiniz yok" in page
    assert "Bu sayfa şu roller içindir: Yönetici." in page
    assert "view_creditorder" not in page


def test_before_any_role_exists_a_screen_is_said_to_be_for_superusers(
    client, django_user_model
) -> None:
    user = django_user_model.objects.create_user("nobody")
    client.force_login(user)

    response = client.get(reverse("staff:settings"))

    assert response.status_code == 403
    assert "Only a superuser may open this page." in response.content.decode()


def test_every_page_names_the_icon_and_favicon_ico_leads_to_it(client, front_desk) -> None:
    page = client.get(reverse("guests:reservation-list")).content.decode()
    login = client.get("/guest/login/").content.decode()

    assert 'rel="icon"' in page and "favicon.svg" in page
    assert 'rel="icon"' in login
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("favicon.svg")


def test_a_refusal_is_logged_in_one_line_without_a_traceback(client, front_desk, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("campaigns:campaign-list")).status_code == 403

    refusals = [r for r in caplog.records if r.name == "django.request"]
    assert [r.status_code for r in refusals] == [403]  # type: ignore[attr-defined]
    assert refusals[0].exc_info is None
    assert "Traceback" not in caplog.text


def test_a_server_error_keeps_its_traceback(rf, caplog) -> None:
    request = rf.get("/boom/")
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        with caplog.at_level(logging.ERROR, logger="django.request"):
            log_response(
                "Internal Server Error: %s",
                request.path,
                response=HttpResponseServerError(),
                request=request,
                exception=exc,
            )

    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None and "RuntimeError: boom" in caplog.text
