"""Staff log in and see only their own work (a real browser)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("role", ["Manager", "Marketing", "Front desk", "Operator"])
def test_each_role_logs_in_and_lands_on_today(login_as, page, role: str) -> None:
    login_as(role)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    nav = page.get_by_role("navigation", name="Main").inner_text()
    assert "Today" in nav


def test_a_wrong_password_is_refused_with_a_message(page, django_user_model) -> None:
    django_user_model.objects.create_user("ayse", password="right-password")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ayse")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    assert "/accounts/login/" in page.url
