"""Settings → CRM (seed 001): the manager's one form for the notification switches and house rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns.models import CampaignSettings
from channels_out.models import MessagingPolicy
from channels_out.policy import quiet_window
from guests.models import Hotel
from interfaces.staff.roles import sync_roles

pytestmark = pytest.mark.django_db

SETTINGS = reverse("staff:settings")


@pytest.fixture
def login(client, django_user_model) -> Callable[[str], Any]:
    def as_role(role: str) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(role.lower().replace(" ", ""), first_name=role)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


def valid(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sms_notifications_enabled": "on",
        "send_notifications_default": "on",
        "viber_first": "on",
        "quiet_start_service": "22:00",
        "quiet_end_service": "08:00",
        "quiet_start_marketing": "20:00",
        "quiet_end_marketing": "10:00",
        "frequency_cap_count": "2",
        "frequency_cap_days": "7",
        "low_balance_threshold": "100",
        "credits_per_eur": "10",
        "approval_cost_threshold": "500",
        "approval_recipient_threshold": "1000",
        "daily_fallback_time": "09:00",
        "arrival_time": "14:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}  # None: an unticked box


def test_the_manager_opens_the_settings_with_the_current_values(client, login) -> None:
    login("Manager")
    response = client.get(SETTINGS)
    html = response.content.decode()
    assert response.status_code == 200
    for label in (
        "SMS notifications",
        "Send SMS on new reservations",
        "SMS + Viber",
        "Check-in time",
    ):
        assert label in html
    assert 'value="22:00"' in html and 'name="credits_per_eur" value="10' in html


@pytest.mark.parametrize("role", ["Front desk", "Operator", "Marketing"])
def test_other_roles_cannot_open_or_post_the_settings(client, login, role) -> None:
    login(role)
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, valid(low_balance_threshold="1")).status_code == 403
    assert MessagingPolicy.load().low_balance_threshold == Decimal("100")


def test_an_anonymous_visitor_is_sent_to_the_login_page(client) -> None:
    assert client.get(SETTINGS)["Location"].startswith(reverse("login"))


def test_the_form_saves_every_setting_where_it_belongs_and_records_who(client, login) -> None:
    manager = login("Manager")
    response = client.post(
        SETTINGS,
        valid(
            sms_notifications_enabled=None,
            send_notifications_default=None,
            viber_first=None,
            quiet_start_marketing="",
            quiet_end_marketing="",
            frequency_cap_count="3",
            frequency_cap_days="14",
            low_balance_threshold="250.50",
            credits_per_eur="12",
            approval_cost_threshold="800",
            approval_recipient_threshold="2500",
            daily_fallback_time="10:30",
            arrival_time="15:00",
        ),
        follow=True,
    )
    assert "Settings saved." in response.content.decode()
    policy, hotel, campaign = MessagingPolicy.load(), Hotel.load(), CampaignSettings.load()
    assert (
        policy.sms_notifications_enabled,
        policy.viber_first,
        hotel.send_notifications_default,
    ) == (False, False, False)
    assert (policy.quiet_start_marketing, policy.quiet_end_marketing) == (None, None)
    assert quiet_window(policy, "service") == (dt.time(22), dt.time(8))
    assert (policy.frequency_cap_count, policy.frequency_cap_days) == (3, 14)
    assert (policy.low_balance_threshold, policy.credits_per_eur) == (
        Decimal("250.50"),
        Decimal("12"),
    )
    assert (campaign.approval_cost_threshold, campaign.approval_recipient_threshold) == (
        Decimal("800"),
        2500,
    )
    assert (campaign.daily_fallback_time, campaign.arrival_time) == (dt.time(10, 30), dt.time(15))
    assert (
        LogEntry.objects.filter(user=manager).count() == 3
    )  # the policy, the hotel, the campaign settings


def _error(html: str, field: str) -> str:
    marker = f'id="id_{field}_error">'
    assert marker in html, f"no error next to {field}"
    return html.split(marker, 1)[1].split("</span>", 1)[0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("low_balance_threshold", "-5", "greater than or equal to 0"),
        ("credits_per_eur", "0", "greater than or equal to 0.01"),
        ("approval_cost_threshold", "-1", "greater than or equal to 0"),
        ("approval_recipient_threshold", "-1", "greater than or equal to 0"),
        ("frequency_cap_days", "-2", "greater than or equal to 0"),
        ("arrival_time", "25:99", "valid time"),
        ("daily_fallback_time", "", "required"),
    ],
)
def test_a_bad_value_is_refused_next_to_its_field_and_nothing_is_saved(
    client, login, field, value, message
) -> None:
    login("Manager")
    response = client.post(SETTINGS, valid(**{field: value, "viber_first": None}))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in _error(html, field)
    assert (
        f'aria-describedby="id_{field}_helptext id_{field}_error"' in html
        or f'aria-describedby="id_{field}_error"' in html
    )
    assert MessagingPolicy.load().viber_first is True  # the valid fields were not saved either


def test_quiet_hours_need_both_ends(client, login) -> None:
    login("Manager")
    html = client.post(SETTINGS, valid(quiet_end_service="")).content.decode()
    assert "Give the end of the quiet hours too" in _error(html, "quiet_end_service")
    assert MessagingPolicy.load().quiet_end_service == dt.time(8)


def test_a_cap_of_zero_messages_over_some_days_is_refused(client, login) -> None:
    login("Manager")
    html = client.post(SETTINGS, valid(frequency_cap_count="0")).content.decode()
    assert "would stop all marketing" in _error(html, "frequency_cap_count")
