"""Operator sends, previews, cost estimates and four-eyes approval (C9–C11, C13)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from campaigns import triggers
from campaigns.models import CampaignRun, CampaignSettings, Source, Timing, Trigger
from campaigns.occurrences import Occurrence
from campaigns.services import (
    campaign_run_approve,
    campaign_run_reject,
    campaign_send,
    campaign_test_send,
    estimate,
    preview,
)
from campaigns.triggers import trigger_event_process
from channels_out.backends import locmem
from channels_out.ledger import available_credits
from channels_out.models import OutboundMessage, PriceRule, Status
from tests.factories import FacilityFactory, GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("marketing", password="x")


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("manager", password="x")
    user.user_permissions.add(Permission.objects.get(codename="approve_send"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def newsletter(make_campaign):
    return make_campaign(
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": "Spring offer for @NAME", "ru": "Весеннее предложение для @NAME"},
    )


def test_the_estimate_counts_parts_per_language_and_price_per_country(newsletter) -> None:
    PriceRule.objects.create(channel="sms", country="GB", credits_per_unit=Decimal("1.5"))
    GuestFactory(language="en", phone="+905321110001")
    GuestFactory(language="en", phone="+447400123456")
    GuestFactory(
        language="ru", phone="+79123456789", first_name="Анастасия" * 6
    )  # long: two UCS-2 parts
    cost = estimate(newsletter, Occurrence.operator())
    assert cost.recipients == 3
    by = {v.language: (v.recipients, v.segments, v.encoding, v.credits) for v in cost.by_variant}
    assert by["en"] == (2, 2, "GSM-7", Decimal("2.5"))
    assert by["ru"][:3] == (1, 2, "UCS-2")
    assert cost.credits == Decimal("2.5") + by["ru"][3]


def test_a_send_the_balance_cannot_cover_is_refused_with_cost_and_balance_and_kept(
    newsletter, staff, top_up
) -> None:
    top_up(Decimal("0.4"))
    GuestFactory.create_batch(3)
    with pytest.raises(ValidationError, match=r"Not sent: cost 3 credits, balance 0\.40"):
        campaign_send(campaign=newsletter, user=staff)
    run = CampaignRun.objects.get()
    assert (run.state, run.refusal, run.requested_by) == (
        CampaignRun.State.REFUSED,
        "cost 3 credits, balance 0.40",
        staff,
    )
    assert not OutboundMessage.objects.exists()
    assert available_credits() == Decimal("0.4")


def test_send_to_all_and_to_selected(
    newsletter, staff, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    guests = GuestFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_send(
            campaign=newsletter, user=staff, record_ids=[guests[0].pk, guests[2].pk]
        )
    run.refresh_from_db()
    assert run.state == CampaignRun.State.DONE
    assert sorted(m.guest_id for m in OutboundMessage.objects.all()) == [guests[0].pk, guests[2].pk]
    assert all(m.sent_by == staff for m in OutboundMessage.objects.all())
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send(campaign=newsletter, user=staff)  # a new deliberate send: everyone, again
    assert OutboundMessage.objects.count() == 5


def test_a_large_send_waits_for_a_second_person_with_the_right(
    newsletter, staff, manager, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(100)
    CampaignSettings.objects.update(approval_recipient_threshold=2)
    GuestFactory.create_batch(3)
    run = campaign_send(campaign=newsletter, user=staff)
    assert run.state == CampaignRun.State.AWAITING_APPROVAL
    assert not OutboundMessage.objects.exists()
    with pytest.raises(PermissionDenied, match="person who asked"):
        staff.user_permissions.add(Permission.objects.get(codename="approve_send"))
        campaign_run_approve(run=run, user=type(staff).objects.get(pk=staff.pk))
    with django_capture_on_commit_callbacks(execute=True):
        campaign_run_approve(run=run, user=manager)
    run.refresh_from_db()
    assert (run.state, run.approved_by) == (CampaignRun.State.DONE, manager)
    assert OutboundMessage.objects.filter(status=Status.SENT).count() == 3


def test_a_user_without_the_right_cannot_approve_and_a_rejected_send_sends_nothing(
    newsletter, staff, manager, django_user_model, top_up
) -> None:
    top_up(100)
    CampaignSettings.objects.update(approval_cost_threshold=Decimal("1"))
    GuestFactory.create_batch(2)
    run = campaign_send(campaign=newsletter, user=staff)
    other = django_user_model.objects.create_user("frontdesk")
    with pytest.raises(PermissionDenied):
        campaign_run_approve(run=run, user=other)
    campaign_run_reject(run=run, user=manager, reason="wrong season")
    run.refresh_from_db()
    assert (run.state, run.refusal) == (CampaignRun.State.REJECTED, "wrong season")
    with pytest.raises(ValidationError, match="not awaiting approval"):
        campaign_run_approve(run=run, user=manager)
    assert not OutboundMessage.objects.exists()


def test_the_preview_shows_each_recipients_message_in_his_language_and_sends_nothing(
    newsletter,
) -> None:
    GuestFactory(first_name="Ivan", language="ru", phone="+79123456789")
    GuestFactory(first_name="Jane", language="de")  # no German variant: the hotel default (en)
    shown = preview(newsletter)
    assert shown.count == 2
    assert sorted((row.language, row.text) for row in shown.rows) == [
        ("en", "Spring offer for Jane"),
        ("ru", "Весеннее предложение для Ivan"),
    ]
    assert {row.address for row in shown.rows} >= {"+79123456789"}
    ru = next(row for row in shown.rows if row.language == "ru")
    assert ru.segments is not None and ru.segments.encoding == "UCS-2"
    assert not OutboundMessage.objects.exists()


def test_a_dry_run_of_a_past_day_lists_who_would_have_received_it(make_campaign, hotel) -> None:
    campaign = make_campaign(trigger=Trigger.DAILY, timing=Timing.DAYS_BEFORE_ARRIVAL, offset=2)
    from tests.factories import ReservationFactory

    past_day = hotel.business_date - dt.timedelta(days=10)
    reservation = ReservationFactory(
        arrival=past_day + dt.timedelta(days=2), departure=past_day + dt.timedelta(days=5)
    )
    shown = preview(campaign, Occurrence.daily(past_day))
    assert [row.record_id for row in shown.rows] == [reservation.pk]
    assert not OutboundMessage.objects.exists()


def test_a_test_send_goes_to_the_staff_address_only(newsletter, staff, top_up) -> None:
    top_up(5)
    GuestFactory.create_batch(2)
    message = campaign_test_send(campaign=newsletter, user=staff, to="+905329998877")
    assert (message.to, message.source, message.guest) == ("+905329998877", "test", None)
    assert message.body.startswith("Spring offer for ")
    assert OutboundMessage.objects.count() == 1


def test_only_an_operator_campaign_is_sent_by_hand(make_campaign, staff) -> None:
    campaign = make_campaign(trigger=Trigger.CHECK_IN)
    with pytest.raises(ValidationError, match="sends itself"):
        campaign_send(campaign=campaign, user=staff)


def test_a_one_off_campaign_goes_when_due_after_its_cost_check(
    make_campaign, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    due = timezone.now() + dt.timedelta(minutes=30)
    campaign = make_campaign(trigger=Trigger.ONCE, source=Source.GUESTS, scheduled_at=due)
    GuestFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=True):
        assert not [
            e for e in triggers.tick(now=due - dt.timedelta(minutes=1)) if e.kind == Trigger.ONCE
        ]
        [event] = [
            e for e in triggers.tick(now=due + dt.timedelta(seconds=10)) if e.kind == Trigger.ONCE
        ]
    assert OutboundMessage.objects.filter(status=Status.SENT).count() == 2
    assert CampaignRun.objects.get(campaign=campaign).state == CampaignRun.State.DONE
    trigger_event_process(event.pk)  # again: nothing more
    assert OutboundMessage.objects.count() == 2


def test_a_one_off_campaign_the_balance_cannot_cover_is_refused(
    make_campaign, django_capture_on_commit_callbacks
) -> None:
    due = timezone.now()
    make_campaign(trigger=Trigger.ONCE, source=Source.GUESTS, scheduled_at=due)
    GuestFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=True):
        triggers.tick(now=due + dt.timedelta(seconds=1))
    run = CampaignRun.objects.get()
    assert (run.state, run.refusal) == (CampaignRun.State.REFUSED, "cost 2 credits, balance 0")
    assert not OutboundMessage.objects.exists()


def test_an_hourly_reminder_goes_n_hours_before_a_spa_booking(
    make_campaign, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    make_campaign(
        trigger=Trigger.HOURLY,
        source=Source.SPA,
        timing=Timing.HOURS_BEFORE_START,
        offset=3,
        texts={"en": "@FACILITY at @STARTTIME"},
    )
    hour = timezone.localtime().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    from guests.services import facility_booking_create

    facility_booking_create(
        guest=GuestFactory(),
        facility=FacilityFactory(name="Hamam"),
        starts_at=hour + dt.timedelta(hours=3, minutes=30),
    )
    with django_capture_on_commit_callbacks(execute=True):
        triggers.tick(now=hour - dt.timedelta(minutes=1))
        triggers.tick(now=hour + dt.timedelta(minutes=1))
        triggers.tick(now=hour + dt.timedelta(minutes=2))
    start = timezone.localtime(hour + dt.timedelta(hours=3, minutes=30))
    assert [m.body for m in locmem.outbox] == [f"Hamam at {start:%H:%M}"]
