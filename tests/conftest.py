"""Project-wide test fixtures and the rules for service-backed tests.

Tests marked ``redis`` need ``REDIS_URL``; tests marked ``postgres`` need ``DATABASE_URL``
pointing at PostgreSQL. Without them they are skipped with the reason shown — unless
``CRM_REQUIRE_SERVICES=1`` (set by CI), where a missing service fails the test instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core.management import call_command

if TYPE_CHECKING:
    from channels_out.models import ChannelAccount, MessagingPolicy, OutboundMessage

REQUIRE_SERVICES = os.environ.get("CRM_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def _service_missing(marker: str) -> str | None:
    if marker == "redis" and not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0"
    if (
        marker == "postgres"
        and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
    ):
        return "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("redis", "postgres"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _service_missing(marker)
        if reason is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (CRM_REQUIRE_SERVICES is set, so this may not be skipped)")
        pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def celery_runs_inline() -> None:
    """Tasks run in the test's own process when they are sent (after commit)."""
    from crm_messaging.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture
def reference_data(db: None) -> None:
    """Load the reference lists (board types, room types, facilities …) from fixtures/."""
    call_command("load_reference_data", verbosity=0)


@pytest.fixture
def hotel(db: None):
    from guests.models import Hotel

    return Hotel.load()


# --- the sender layer: in-memory accounts, credits, running the dispatcher ---------------------


@pytest.fixture(autouse=True)
def no_language_left_over() -> Iterator[None]:
    """Each test starts in the default language: the LocaleMiddleware activates a request's
    language in the test's thread and nothing deactivates it after the response."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def empty_outbox() -> Iterator[None]:
    from channels_out.backends import locmem

    locmem.reset()
    yield
    locmem.reset()


@pytest.fixture
def no_quiet_hours(db: None) -> MessagingPolicy:
    from channels_out.models import MessagingPolicy

    policy = MessagingPolicy.load()
    policy.quiet_start_service = policy.quiet_end_service = None
    policy.quiet_start_marketing = policy.quiet_end_marketing = None
    policy.save()
    return policy


@pytest.fixture
def accounts(db: None, no_quiet_hours: MessagingPolicy) -> dict[str, ChannelAccount]:
    """One default in-memory account per channel; Viber falls back to the SMS one."""
    from channels_out.models import ChannelAccount

    sms = ChannelAccount.objects.create(
        channel="sms",
        backend="locmem",
        name="SMS",
        sender="HOTEL",
        is_default=True,
        rate_per_second=1000,
    )
    made = {
        "sms": sms,
        "email": ChannelAccount.objects.create(
            channel="email",
            backend="locmem",
            name="Mail",
            sender="hotel@example.com",
            is_default=True,
            rate_per_second=1000,
        ),
        "whatsapp": ChannelAccount.objects.create(
            channel="whatsapp",
            backend="locmem",
            name="WA",
            sender="+905320000000",
            is_default=True,
            rate_per_second=1000,
        ),
        "viber": ChannelAccount.objects.create(
            channel="viber",
            backend="locmem",
            name="Viber",
            sender="HOTEL",
            is_default=True,
            fallback_account=sms,
            ttl_seconds=60,
            rate_per_second=1000,
        ),
    }
    return made


@pytest.fixture
def top_up(db: None) -> Callable[[int | Decimal], None]:
    from channels_out.ledger import credits_add

    counter = iter(range(1_000_000))

    def add(amount: int | Decimal) -> None:
        credits_add(amount=Decimal(amount), key=f"test-top-up:{next(counter)}")

    return add


@pytest.fixture
def deliver_queued() -> Callable[[], dict[int, float]]:
    """Run the dispatcher over every queued message, as a worker would."""

    from channels_out.dispatch import deliver
    from channels_out.models import OutboundMessage, Status

    def run() -> dict[int, float]:
        ids = list(
            OutboundMessage.objects.filter(status=Status.QUEUED).values_list("pk", flat=True)
        )
        return deliver(ids)

    return run


@pytest.fixture
def unknown(
    accounts: dict[str, ChannelAccount],
    top_up: Callable[[int | Decimal], None],
    deliver_queued: Callable[[], dict[int, float]],
) -> OutboundMessage:
    """An SMS whose provider timed out after the request was sent: its outcome is unknown."""
    from channels_out.backends import TransportError, locmem
    from channels_out.models import Status
    from channels_out.services import Step, message_send

    top_up(10)
    message = message_send(
        steps=Step(channel="sms", text="Your taxi is booked.", to="+905321234567")
    )
    locmem.script(TransportError("read timed out after the request was sent", ambiguous=True))
    deliver_queued()
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    return message
