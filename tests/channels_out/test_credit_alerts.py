"""A low balance is told, not just shown (K5): a signal inside the movement's transaction, an
e-mail to the managers and a header warning, once per crossing; and the same when automated
sends stop for want of credits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from channels_out.ledger import credits_add
from channels_out.models import CreditBalance, MessagingPolicy, OutboundMessage, SkipReason, Status
from channels_out.services import Step, message_send
from channels_out.signals import credits_exhausted, credits_low
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def told() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The balance signals sent, with whether each came inside a transaction."""
    heard: list[tuple[str, dict[str, Any]]] = []

    def on_low(**kwargs: Any) -> None:
        heard.append(("low", {**kwargs, "in_atomic": connection.in_atomic_block}))

    def on_exhausted(**kwargs: Any) -> None:
        heard.append(("exhausted", {**kwargs, "in_atomic": connection.in_atomic_block}))

    credits_low.connect(on_low, dispatch_uid="test-low")
    credits_exhausted.connect(on_exhausted, dispatch_uid="test-exhausted")
    yield heard
    credits_low.disconnect(dispatch_uid="test-low")
    credits_exhausted.disconnect(dispatch_uid="test-exhausted")


@pytest.fixture
def managers(django_user_model) -> list[Any]:
    sync_roles()
    manager = django_user_model.objects.create_user("manager", email="manager@hotel.example")
    manager.groups.add(Group.objects.get(name="Manager"))
    desk = django_user_model.objects.create_user("desk", email="desk@hotel.example")
    desk.groups.add(Group.objects.get(name="Front desk"))
    django_user_model.objects.create_user(
        "gone", email="gone@hotel.example", is_active=False
    ).groups.add(Group.objects.get(name="Manager"))
    return [manager]


@pytest.fixture
def send(accounts: Any, django_capture_on_commit_callbacks: Any) -> Callable[[int], None]:
    """Queue ``n`` one-credit SMS (each to a new guest), committing each like a request would."""
    guests = iter(GuestFactory.create_batch(40))
    counter = iter(range(1000))

    def queue(n: int) -> None:
        for _ in range(n):
            with django_capture_on_commit_callbacks(execute=True):
                message_send(
                    steps=Step(channel="sms", text="Breakfast until 10:30."),
                    guest=next(guests),
                    dedupe_key=f"alert:{next(counter)}",
                )

    return queue


def _threshold(value: int) -> None:
    MessagingPolicy.objects.filter(pk=MessagingPolicy.load().pk).update(low_balance_threshold=value)


def test_falling_under_the_threshold_tells_the_managers_once_per_crossing(
    top_up, send, told, managers
) -> None:
    _threshold(5)
    top_up(7)
    send(2)  # 7 → 5: at the threshold, not under it
    assert told == [] and mail.outbox == []

    send(3)  # 5 → 4 crosses; 3, 2 are the same crossing
    assert [kind for kind, _ in told] == ["low"]
    assert told[0][1]["available"] == Decimal("4") and told[0][1]["threshold"] == Decimal("5")
    assert [m.to for m in mail.outbox] == [["manager@hotel.example"]]
    assert mail.outbox[0].subject == "Credits are low: 4 left (threshold 5)"
    assert "/credits/" in mail.outbox[0].body

    top_up(10)  # back above the threshold: the next fall is a new crossing
    assert CreditBalance.objects.get().low_since is None
    send(8)  # 12 → 4
    assert [kind for kind, _ in told] == ["low", "low"]
    assert len(mail.outbox) == 2


def test_the_signal_comes_inside_the_movements_transaction(top_up, send, told) -> None:
    _threshold(5)
    top_up(5)
    send(1)
    assert told[0][1]["in_atomic"] is True
    assert CreditBalance.objects.get().low_since == told[0][1]["at"]


def test_a_rolled_back_fall_tells_nobody(
    accounts, top_up, told, managers, django_capture_on_commit_callbacks
) -> None:
    _threshold(5)
    top_up(5)
    guest = GuestFactory()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        message_send(steps=Step(channel="sms", text="Hello"), guest=guest, dedupe_key="x")
        raise RuntimeError("the cause failed")
    assert mail.outbox == []
    assert CreditBalance.objects.get().low_since is None  # so the next fall is told
    assert OutboundMessage.objects.count() == 0


def test_a_top_up_that_stays_short_crosses_nothing(top_up, told) -> None:
    _threshold(100)
    top_up(40)
    assert told == []


def test_sends_stopped_at_zero_are_told_once_until_credits_are_added(
    top_up, send, told, managers
) -> None:
    _threshold(0)
    top_up(2)
    send(4)  # two go, two are skipped for want of credits
    assert list(OutboundMessage.objects.order_by("pk").values_list("skip_reason", flat=True)) == [
        "",
        "",
        SkipReason.NO_CREDITS,
        SkipReason.NO_CREDITS,
    ]
    assert [kind for kind, _ in told] == ["exhausted"]
    assert [m.subject for m in mail.outbox] == ["Automated messages stopped: no credits left (0)"]

    credits_add(amount=Decimal(1), key="more")
    assert CreditBalance.objects.get().exhausted_since is None
    assert OutboundMessage.objects.filter(status=Status.SKIPPED).count() == 2
    send(3)  # one goes, the next stop is told again
    assert [kind for kind, _ in told] == ["exhausted", "exhausted"]


def test_the_mail_is_in_the_hotels_staff_language(top_up, send, managers, settings) -> None:
    settings.LANGUAGE_CODE = "tr"
    _threshold(5)
    top_up(5)
    send(1)
    assert mail.outbox[0].subject == "Kredi azaldı: 4 kaldı (eşik 5)"


# --- The header --------------------------------------------------------------------------------


def test_the_header_warns_managers_until_they_dismiss_this_crossing(
    client, top_up, send, managers, django_user_model
) -> None:
    _threshold(5)
    top_up(5)
    send(1)
    client.force_login(managers[0])
    home = reverse("staff:home")
    html = client.get(home).content.decode()
    assert 'data-alert="low"' in html and "Credits are low: 4 left" in html

    key = CreditBalance.objects.get().low_since
    assert key is not None
    response = client.post(
        reverse("staff:credit-alert-dismiss"), {"key": f"low:{key.isoformat()}", "next": home}
    )
    assert response.status_code == 302 and response["Location"] == home
    assert 'data-alert="low"' not in client.get(home).content.decode()

    top_up(10)
    send(12)  # a new crossing shows again
    assert 'data-alert="low"' in client.get(home).content.decode()


def test_the_front_desk_sees_no_balance_warning_and_cannot_dismiss(
    client, top_up, send, managers, django_user_model
) -> None:
    _threshold(5)
    top_up(5)
    send(1)
    client.force_login(django_user_model.objects.get(username="desk"))
    assert "credit-alert" not in client.get(reverse("staff:home")).content.decode()
    assert client.post(reverse("staff:credit-alert-dismiss"), {"key": "x"}).status_code == 403
    assert client.get(reverse("staff:credit-alert-dismiss")).status_code in (403, 405)
