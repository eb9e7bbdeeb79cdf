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


def test_a_manager_sets_up_two_factor_sign_in_from_the_qr_page(
    page, settings, django_user_model
) -> None:
    """Required two-factor: the QR page renders under the Content-Security-Policy (the page
    fixture fails on any violation) and the app's code opens the screens."""
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from interfaces.staff.roles import MANAGER, sync_roles

    settings.STAFF_TWO_FACTOR = "required"
    sync_roles()
    user = django_user_model.objects.create_user("manager", password="pw-for-tests")
    user.groups.add(Group.objects.get(name=MANAGER))
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/two-factor/**")
    assert page.locator("svg.segno").is_visible()
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp()
    page.get_by_label("Code from your authenticator app").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Confirm and sign in").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
