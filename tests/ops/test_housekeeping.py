"""Housekeeping that beat runs: old delivery events, old login codes, expired sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from channels_out.models import DeliveryEvent, OutboundMessage, Status
from channels_out.services.maintenance import delivery_events_purge
from channels_out.tasks import purge_delivery_events
from crm_messaging.ops.tasks import clear_expired_sessions
from interfaces.portal.models import LoginCode
from interfaces.portal.tasks import purge_login_codes
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

HOUSEKEEPING = {
    "ops: worker heartbeat": "ops.heartbeat",
    "ops: clear expired sessions": "ops.clear_expired_sessions",
    "channels_out: purge old delivery events": "channels_out.purge_delivery_events",
    "portal: purge old login codes": "portal.purge_login_codes",
}


def _event(message: OutboundMessage, days_ago: int) -> DeliveryEvent:
    return DeliveryEvent.objects.create(
        message=message,
        status=Status.DELIVERED,
        source="webhook",
        at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_each_housekeeping_task_is_a_periodic_task_in_the_admin() -> None:
    tasks = dict(PeriodicTask.objects.filter(name__in=HOUSEKEEPING).values_list("name", "task"))
    assert tasks == HOUSEKEEPING
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert all(name in page for name in HOUSEKEEPING)


def test_delivery_events_older_than_the_retention_go_and_the_message_stays(
    settings, accounts
) -> None:
    settings.DELIVERY_EVENT_RETENTION_DAYS = 30
    message = OutboundMessage.objects.create(
        dedupe_key="k",
        channel="sms",
        purpose="service",
        account=accounts["sms"],
        to="+905321234567",
        status=Status.DELIVERED,
    )
    old, recent = _event(message, days_ago=31), _event(message, days_ago=29)
    assert purge_delivery_events() == 1
    assert list(DeliveryEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not DeliveryEvent.objects.filter(pk=old.pk).exists()
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_a_retention_under_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        delivery_events_purge(older_than=dt.timedelta(hours=12))


def test_login_codes_past_their_retention_go() -> None:
    guest = GuestFactory()
    now = timezone.now()

    def code(days_ago: int) -> LoginCode:
        created = now - dt.timedelta(days=days_ago)
        return LoginCode.objects.create(
            phone=guest.phone,
            guest=guest,
            created_at=created,
            expires_at=created + dt.timedelta(minutes=10),
        )

    code(days_ago=31)
    kept = code(days_ago=1)
    assert purge_login_codes() == 1
    assert list(LoginCode.objects.values_list("pk", flat=True)) == [kept.pk]


def test_expired_sessions_go_and_live_ones_stay() -> None:
    live, expired = SessionStore(), SessionStore()
    live["x"] = expired["x"] = 1
    live.create()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - dt.timedelta(minutes=1)
    )
    clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
