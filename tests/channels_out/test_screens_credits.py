"""The credits screen (K1–K5): balance and warning, buying, paying and cancelling invoices, the
period report with its chart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_out.ledger import available_credits
from channels_out.models import CreditOrder, MessagingPolicy
from channels_out.services import Step, message_send
from channels_out.services.credits import credit_order_create
from crm_messaging.ui.once import new_nonce
from interfaces.operator.views.chart import spend_chart
from interfaces.staff.roles import sync_roles

pytestmark = pytest.mark.django_db

CREDITS = reverse("channels_out:credits")
BUY = reverse("channels_out:credit-order-create")


def paid_url(order: CreditOrder) -> str:
    return reverse("channels_out:credit-order-mark-paid", args=[order.pk])


def cancel_url(order: CreditOrder) -> str:
    return reverse("channels_out:credit-order-cancel", args=[order.pk])


@pytest.fixture
def login(client, django_user_model) -> Callable[[str], Any]:
    def as_role(role: str) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(role.lower().replace(" ", ""), first_name=role)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


# --- Who may do what -----------------------------------------------------------------------------


def test_the_manager_opens_the_credits_page(client, login) -> None:
    login("Manager")
    response = client.get(CREDITS)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Buy credits" in html and "Opening balance" in html and "<svg" in html


@pytest.mark.parametrize("role", ["Front desk", "Operator", "Marketing"])
def test_other_roles_may_neither_open_the_page_nor_buy(client, login, role) -> None:
    login(role)
    assert client.get(CREDITS).status_code == 403
    assert client.post(BUY, {"credits": "500", "nonce": new_nonce()}).status_code == 403
    assert not CreditOrder.objects.exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client) -> None:
    assert client.get(CREDITS)["Location"].startswith(reverse("login"))
    assert client.post(BUY, {"credits": "500", "nonce": new_nonce()})["Location"].startswith(
        reverse("login")
    )


def test_marking_paid_needs_its_own_permission(client, django_user_model) -> None:
    from django.contrib.auth.models import Permission

    clerk = django_user_model.objects.create_user("clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_creditorder", "add_creditorder"])
    )
    client.force_login(clerk)
    order = credit_order_create(credits=100)
    assert "Mark paid" not in client.get(CREDITS).content.decode()
    assert client.post(paid_url(order)).status_code == 403
    assert available_credits() == 0


# --- Buying and paying ---------------------------------------------------------------------------


def test_buying_credits_issues_an_invoice_and_shows_its_number_and_amount(client, login) -> None:
    manager = login("Manager")
    response = client.post(BUY, {"credits": "500", "nonce": new_nonce()}, follow=True)
    order = CreditOrder.objects.get()
    html = response.content.decode()
    assert (order.credits, order.amount, order.status, order.ordered_by) == (
        Decimal("500"),
        Decimal("50.00"),
        CreditOrder.Status.INVOICED,
        manager,
    )
    assert f"Invoice {order.invoice_number} issued: 50.00 EUR for 500 credits" in html
    assert available_credits() == 0  # not before it is paid
    assert LogEntry.objects.filter(user=manager, object_id=str(order.pk)).exists()


def test_the_invoice_message_writes_its_numbers_the_turkish_way(client, login) -> None:
    login("Manager")
    client.cookies["django_language"] = "tr"
    response = client.post(BUY, {"credits": "12000", "nonce": new_nonce()}, follow=True)
    order = CreditOrder.objects.get()
    html = response.content.decode()
    assert (
        f"{order.invoice_number} numaralı fatura kesildi: 12.000 kredi için 1.200,00 EUR "
        "(KDV dahil 1.440,00 EUR)"
    ) in html


@pytest.mark.parametrize("credits", ["0", "-5", "12.5", "abc", ""])
def test_a_bad_quantity_is_refused_next_to_the_field(client, login, credits) -> None:
    login("Manager")
    response = client.post(BUY, {"credits": credits, "nonce": new_nonce()})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_credits_error"' in html and 'aria-invalid="true"' in html
    assert not CreditOrder.objects.exists()


def test_mark_paid_adds_the_credits_once_even_when_posted_twice(client, login) -> None:
    manager = login("Manager")
    order = credit_order_create(credits=300, user=manager)
    client.post(paid_url(order))
    second = client.post(paid_url(order), follow=True)
    order.refresh_from_db()
    assert (order.status, order.paid_by) == (CreditOrder.Status.PAID, manager)
    assert available_credits() == Decimal("300")
    assert "already paid; nothing added" in second.content.decode()


def test_a_cancelled_invoice_cannot_be_paid(client, login) -> None:
    login("Manager")
    order = credit_order_create(credits=100)
    client.post(cancel_url(order))
    response = client.post(paid_url(order), follow=True)
    order.refresh_from_db()
    assert order.status == CreditOrder.Status.CANCELLED
    assert available_credits() == 0
    assert "was cancelled; it cannot be paid" in response.content.decode()


def test_a_paid_invoice_cannot_be_cancelled(client, login) -> None:
    login("Manager")
    order = credit_order_create(credits=100)
    client.post(paid_url(order))
    response = client.post(cancel_url(order), follow=True)
    order.refresh_from_db()
    assert order.status == CreditOrder.Status.PAID
    assert "is paid; it cannot be cancelled" in response.content.decode()


def test_the_actions_are_posts(client, login) -> None:
    login("Manager")
    order = credit_order_create(credits=100)
    assert client.get(paid_url(order)).status_code == 405
    assert client.get(BUY).status_code == 405


# --- Balance, report, chart ----------------------------------------------------------------------


def test_a_low_balance_is_announced(client, login, top_up) -> None:
    login("Manager")
    top_up(40)
    MessagingPolicy.objects.filter(pk=MessagingPolicy.load().pk).update(low_balance_threshold=100)
    html = client.get(CREDITS).content.decode()
    assert 'role="alert"' in html and "Low balance: 40 credits left" in html


def test_the_report_covers_the_chosen_period_by_channel_and_staff(
    client, login, accounts, deliver_queued
) -> None:
    manager = login("Manager")
    order = credit_order_create(credits=100, user=manager)
    client.post(paid_url(order))
    message_send(steps=Step(channel="sms", text="Hello", to="+905321234567"), user=manager)
    message_send(steps=Step(channel="sms", text="Hello", to="+905321234568"))
    deliver_queued()
    today = timezone.localdate()

    response = client.get(CREDITS, {"start": today.isoformat(), "end": today.isoformat()})

    report = response.context["report"]
    assert (report.opening, report.bought, report.spent, report.closing, report.messages_sent) == (
        0,
        100,
        2,
        98,
        2,
    )
    assert {(r.label, r.messages) for r in report.by_staff} == {("Manager", 1), ("automatic", 1)}
    html = response.content.decode()
    assert "Spend as a table" in html and "<title" in html and 'role="img"' in html


def test_the_report_period_defaults_to_this_month_and_refuses_an_end_before_the_start(
    client, login
) -> None:
    login("Manager")
    report = client.get(CREDITS).context["report"]
    today = timezone.localdate()
    assert (report.start, report.end.month) == (today.replace(day=1), today.month)
    response = client.get(CREDITS, {"start": "2026-05-10", "end": "2026-05-01"})
    assert response.context["report"] is None
    assert 'id="id_end_error"' in response.content.decode()


def test_the_credits_page_costs_the_same_queries_for_2_and_30_orders(client, login) -> None:
    manager = login("Manager")
    client.get(CREDITS)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CREDITS).status_code == 200
        return len(queries)

    for _ in range(2):
        credit_order_create(credits=10, user=manager)
    few = count()
    for _ in range(28):
        credit_order_create(credits=10, user=manager)
    assert count() == few


def test_the_chart_stacks_each_days_channels_and_keeps_empty_days() -> None:
    start = dt.date(2026, 5, 1)
    chart = spend_chart(
        [
            (start, "SMS", Decimal(6)),
            (start, "Viber", Decimal(2)),
            (start + dt.timedelta(days=2), "SMS", Decimal(4)),
        ],
        start=start,
        end=start + dt.timedelta(days=3),
    )
    assert [bar.total for bar in chart.bars] == [8, 0, 4, 0]
    first = chart.bars[0].segments
    assert [s.channel for s in first] == ["SMS", "Viber"]
    assert first[1].y + first[1].height == pytest.approx(first[0].y)  # Viber sits on SMS
    assert chart.rows[0] == (chart.bars[0].label, [Decimal(6), Decimal(2)], Decimal(8))


def test_a_long_period_is_drawn_a_bar_per_month() -> None:
    chart = spend_chart(
        [(dt.date(2026, 3, 15), "SMS", Decimal(5))],
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 6, 30),
    )
    assert chart.per == "month" and len(chart.bars) == 6
    assert [bar.total for bar in chart.bars][2] == 5
