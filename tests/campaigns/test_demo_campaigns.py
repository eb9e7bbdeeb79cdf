"""``make run``'s demo works out of the box: ``seed_demo_campaigns`` gives the demo hotel
active campaigns made from the standard templates, so the first check-in sends the welcome SMS
the README promises."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from campaigns.demo import DEMO_CAMPAIGNS
from campaigns.gallery import gallery_template
from campaigns.models import Campaign, Recipients, Trigger
from campaigns.validation import campaign_validate
from channels_out.models import OutboundMessage, Status
from guests.models import Hotel, Reservation
from guests.services import reservation_check_in

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def demo_hotel(django_db_setup: None, django_db_blocker) -> Iterator[None]:
    """``make demo``'s three commands, once for the module, rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", verbosity=0)
        call_command("setup_sandbox", verbosity=0)
        call_command("seed_demo_campaigns", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def test_the_demo_has_active_campaigns_made_from_the_gallery() -> None:
    campaigns = {c.name: c for c in Campaign.objects.filter(is_active=True)}

    assert set(campaigns) >= {wanted.name for wanted in DEMO_CAMPAIGNS}
    for wanted in DEMO_CAMPAIGNS:
        campaign = campaigns[wanted.name]
        template = gallery_template(wanted.key)
        assert campaign.trigger == template.trigger
        assert (campaign.timing, campaign.offset) == (template.timing, template.offset)
        assert [step.channel for step in campaign.plan_steps()] == list(wanted.channels)
        assert {v.language for v in campaign.message_variants()} == set(template.languages)
        campaign_validate(campaign)  # ready to send: nothing the editor would flag


def test_the_demo_campaigns_cover_check_in_pre_arrival_birthday_survey_and_operator() -> None:
    kinds = {(c.trigger, c.timing, c.offset) for c in Campaign.objects.filter(is_active=True)}

    assert (Trigger.CHECK_IN, "", 0) in kinds
    assert (Trigger.DAILY, "days_before_arrival", 3) in kinds
    assert (Trigger.DAILY, "birthday", 0) in kinds
    assert (Trigger.DAILY, "days_after_departure", 1) in kinds
    assert any(trigger == Trigger.OPERATOR for trigger, _, _ in kinds)
    # The timings of issue 12: mid-stay, and the check-out eve at its own send time.
    assert (Trigger.DAILY, "days_after_arrival", 2) in kinds
    eve = Campaign.objects.get(timing="days_before_departure")
    assert (eve.offset, eve.send_time) == (1, dt.time(18, 0))


def test_the_demos_welcome_reaches_the_companions_with_a_phone_of_their_own(
    django_capture_on_commit_callbacks, no_quiet_hours
) -> None:
    welcome = Campaign.objects.get(name="Welcome SMS at check-in")
    assert welcome.recipients == Recipients.OWN_CONTACT
    arriving = Reservation.objects.filter(
        status=Reservation.Status.CONFIRMED, arrival=timezone.localdate()
    ).prefetch_related("companions")
    reservation = next(
        r
        for r in arriving
        if r.booker.phone_valid
        and any(c.phone_valid and c.phone != r.booker.phone for c in r.companions.all())
    )
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=reservation)
    companions = OutboundMessage.objects.filter(
        reservation=reservation, channel="sms", dedupe_key__contains=":guest:"
    )
    assert companions.exists()
    for message in companions:
        assert message.guest.first_name in message.body  # his own name, his own message


def test_the_first_check_in_of_the_demo_sends_the_welcome_sms(
    django_capture_on_commit_callbacks, no_quiet_hours
) -> None:
    arriving = (
        Reservation.objects.filter(
            status=Reservation.Status.CONFIRMED, arrival=timezone.localdate()
        )
        .exclude(booker__phone="")
        .select_related("booker")
    )
    reservation = next(r for r in arriving if not r.booker.greylist_entries.exists())

    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=reservation, room_number="214")

    welcome = OutboundMessage.objects.get(reservation=reservation, channel="sms")
    assert welcome.status not in {Status.SKIPPED, Status.FAILED}, welcome.skip_reason
    assert reservation.booker.first_name in welcome.body


def test_seeding_the_campaigns_again_changes_nothing() -> None:
    before = Campaign.objects.count()
    out = StringIO()

    call_command("seed_demo_campaigns", stdout=out)

    assert Campaign.objects.count() == before
    assert "already here" in out.getvalue()


def test_it_refuses_a_database_with_another_hotels_guests() -> None:
    Hotel.objects.update(name="Another hotel")  # its guests are not the demo's
    Campaign.objects.all().delete()

    with pytest.raises(CommandError):
        call_command("seed_demo_campaigns", stdout=StringIO())

    assert not Campaign.objects.exists()
