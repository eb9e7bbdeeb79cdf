"""Messages held for the guest's quiet hours say so, follow a change of the hours, and can be sent now."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from channels_out import dispatch
from channels_out.backends import locmem
from channels_out.models import DeliveryEvent, Hold, MessagingPolicy, OutboundMessage, Status
from channels_out.services import (
    Step,
    message_send,
    message_send_now,
    messages_retime_quiet_hours,
)
from guests.models import ConsentPurpose
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db

ISTANBUL = ZoneInfo("Europe/Istanbul")
LONDON = ZoneInfo("Europe/London")
# 23:30 in Istanbul (20:30 in London): inside both the service and the marketing window.
LATE = dt.datetime(2026, 12, 4, 23, 30, tzinfo=ISTANBUL)


@pytest.fixture
def night(accounts, top_up):
    top_up(100)
    MessagingPolicy.objects.update(
        quiet_start_service=dt.time(22),
        quiet_end_service=dt.time(8),
        quiet_start_marketing=dt.time(20),
        quiet_end_marketing=dt.time(10),
    )
    with time_machine.travel(LATE, tick=False):
        yield


@pytest.fixture
def login(client, django_user_model):
    def as_role(role: str, name: str = ""):
        sync_roles()
        user = django_user_model.objects.create_user(name or role.lower().replace(" ", ""))
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


def _held(**kwargs) -> OutboundMessage:
    reservation = ReservationFactory(
        booker=GuestFactory(phone=kwargs.pop("phone", "+905321234567"))
    )
    return message_send(
        steps=Step(channel="sms", text="Your room is ready."),
        guest=reservation.booker,
        reservation=reservation,
        **kwargs,
    )


def test_a_held_message_says_until_when_in_guest_time_everywhere_staff_look(
    client, login, night
) -> None:
    message = _held()
    assert (message.status, message.hold) == (Status.QUEUED, Hold.QUIET_HOURS)
    local = message.not_before.astimezone(ISTANBUL)
    assert (local.hour, local.minute) == (8, 0)
    wanted = "waits for quiet hours until 08:00 on 05.12.2026 (hotel and guest time)"
    login("Operator")
    assert wanted in client.get(reverse("channels_out:message-list")).content.decode()
    assert (
        wanted
        in client.get(reverse("channels_out:message-detail", args=[message.pk])).content.decode()
    )
    login("Front desk", "desk")
    stay = client.get(reverse("guests:reservation-detail", args=[message.reservation_id]))
    assert wanted in stay.content.decode()
    guest = client.get(reverse("guests:guest-detail", args=[message.guest_id]))
    assert wanted in guest.content.decode()
    client.cookies["django_language"] = "tr"
    turkish = client.get(reverse("guests:reservation-detail", args=[message.reservation_id]))
    assert "sessiz saat" in turkish.content.decode().lower()
    assert wanted not in turkish.content.decode()


def test_a_guest_abroad_waits_for_his_own_morning(client, login, night) -> None:
    from guests.services import guest_record_consent

    guest = GuestFactory(phone="+447400123457")
    guest_record_consent(
        guest=guest, purpose=ConsentPurpose.MARKETING, channel="sms", granted=True, source="staff"
    )
    marketing = message_send(
        steps=Step(channel="sms", text="Offer"), guest=guest, purpose=ConsentPurpose.MARKETING
    )
    assert marketing.not_before.astimezone(LONDON).hour == 10
    login("Operator")
    page = client.get(reverse("channels_out:message-detail", args=[marketing.pk])).content.decode()
    assert "waits for quiet hours until 13:00 on 05.12.2026 (hotel time; 10:00 guest time)" in page


def test_a_tokyo_number_waits_for_the_tokyo_morning_told_in_hotel_time(
    client, login, night
) -> None:
    """A +81 mobile is in Tokyo (UTC+9): at 23:30 in Istanbul it is 05:30 there, so the SMS
    waits for 08:00 Tokyo time, which is 02:00 the next night in the hotel."""
    message = _held(phone="+819012345678")
    assert message.not_before.astimezone(ZoneInfo("Asia/Tokyo")).time() == dt.time(8)
    login("Operator")
    page = client.get(reverse("channels_out:message-detail", args=[message.pk])).content.decode()
    assert "waits for quiet hours until 02:00 on 05.12.2026 (hotel time; 08:00 guest time)" in page


def test_a_russian_mobile_spanning_eleven_zones_names_the_earliest_clock(
    client, login, night
) -> None:
    """A +7 mobile may be anywhere from Moscow to Anadyr (a Russian guest): held until 08:00 in
    Moscow, the last of his zones to leave the window; the label says so in hotel time and
    names the zone, instead of calling one of the eleven clocks "guest time"."""
    reservation = ReservationFactory(booker=GuestFactory(phone="+79161234567", nationality="RU"))
    message = message_send(
        steps=Step(channel="sms", text="Your room is ready."),
        guest=reservation.booker,
        reservation=reservation,
    )
    assert message.not_before.astimezone(ZoneInfo("Europe/Moscow")).time() == dt.time(8)
    assert message.not_before.astimezone(ZoneInfo("Asia/Vladivostok")).time() == dt.time(15)
    login("Operator")
    log = client.get(reverse("channels_out:message-list")).content.decode()
    wanted = (
        "waits for quiet hours until 08:00 on 05.12.2026 (hotel time; 08:00 in Moscow, "
        "later in the guest&#x27;s other possible zones)"
    )
    assert wanted in log
    client.cookies["django_language"] = "tr"
    turkish = client.get(reverse("channels_out:message-detail", args=[message.pk])).content.decode()
    assert "otel saatiyle 05.12.2026 08:00 itibarıyla gider (Moscow saatiyle 08:00" in turkish


def test_changing_the_quiet_hours_retimes_waiting_messages(
    client, login, night, django_capture_on_commit_callbacks
) -> None:
    message = _held()
    later = _held(phone="+905321234568")
    from tests.staff.test_settings_screen import SETTINGS, valid

    login("Manager")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SETTINGS, valid(quiet_end_service="07:00"))
    message.refresh_from_db()
    assert message.not_before.astimezone(ISTANBUL).time() == dt.time(7)
    assert DeliveryEvent.objects.filter(
        message=message, source="policy", description__contains="quiet hours changed"
    ).exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(SETTINGS, valid(quiet_start_service="", quiet_end_service=""))
    for row in (message, later):
        row.refresh_from_db()
        assert row.status == Status.SENT  # no quiet hours any more: handed to the workers at once
    assert {m.pk for m in locmem.outbox} == {message.pk, later.pk}


def test_the_admin_change_of_quiet_hours_retimes_too(admin_client, night) -> None:
    message = _held()
    policy = MessagingPolicy.load()
    url = reverse("admin:channels_out_messagingpolicy_change", args=[policy.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(quiet_end_service="06:30", sms_notifications_enabled="on", viber_first="on")
    admin_client.post(url, data)
    message.refresh_from_db()
    assert message.not_before.astimezone(ISTANBUL).time() == dt.time(6, 30)


def test_an_operator_sends_a_held_message_now_and_it_is_recorded(
    client, login, night, django_capture_on_commit_callbacks
) -> None:
    message = _held()
    login("Front desk", "desk")
    url = reverse("channels_out:message-send-now", args=[message.pk])
    assert client.post(url).status_code == 403
    operator = login("Operator")
    assert client.get(url).status_code == 405
    page = client.get(reverse("channels_out:message-detail", args=[message.pk])).content.decode()
    assert re.search(r'action="[^"]*send-now/"', page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.hold) == (Status.SENT, Hold.SENT_NOW)
    assert [m.pk for m in locmem.outbox] == [message.pk]
    assert DeliveryEvent.objects.filter(message=message, source="operator", by=operator).exists()
    assert LogEntry.objects.filter(object_id=str(message.pk), user=operator).exists()

    # Sent: nothing to send now any more, and a second press changes nothing.
    with pytest.raises(Exception, match="not waiting for quiet hours"):
        message_send_now(message=message, user=operator)
    assert len(locmem.outbox) == 1


def test_a_retime_leaves_messages_without_a_quiet_hours_hold_alone(night) -> None:
    message = _held()
    # A retry waiting for its backoff is not a quiet-hours hold.
    OutboundMessage.objects.filter(pk=message.pk).update(hold=Hold.NONE)
    MessagingPolicy.objects.update(quiet_start_service=None, quiet_end_service=None)
    assert messages_retime_quiet_hours() == 0
    dispatch.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == Status.QUEUED
