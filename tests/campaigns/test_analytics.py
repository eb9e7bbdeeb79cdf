"""Campaign analytics (E4): a campaign sent through an ESP shows what became of it.

A marketing e-mail campaign goes through Mailgun (anymail's test backend in place of the HTTP
API); Mailgun's signed webhooks report a delivery, a hard bounce, an open and a click; guests
book. The campaign's page then shows delivered, bounced, opened, clicked and the bookings it
brought — each booking once, only inside the attribution window, last touch — and the bounced
address is never mailed by the next run. The figures cost the same number of queries for one
run as for three.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.analytics import attributed_bookings, campaign_analytics, manager_dashboard
from campaigns.models import Campaign, CampaignStep, MessageVariant, Source, Trigger
from campaigns.occurrences import Occurrence
from campaigns.services import campaign_send, estimate
from channels_out.backends import backend_class
from channels_out.ledger import credits_add
from channels_out.models import ChannelAccount, OutboundMessage, SkipReason, Status
from guests.models import Guest
from guests.services import guest_record_consent
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db
KEY = "mailgun-signing-key"
HUMAN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Thunderbird/128.0"


@pytest.fixture
def mailgun(monkeypatch, no_quiet_hours, settings) -> ChannelAccount:
    settings.SCANNER_PREFETCH_SECONDS = 0
    settings.ATTRIBUTION_WINDOW_DAYS = 14
    monkeypatch.setattr(
        backend_class("anymail_mailgun"), "connection_path", "anymail.backends.test.EmailBackend"
    )
    mail.outbox = []
    credits_add(amount=Decimal(100), key="analytics")
    return ChannelAccount.objects.create(
        channel="email",
        backend="anymail_mailgun",
        name="Mailgun",
        sender="news@lykiabay.example",
        secret="key-1",
        webhook_secret=KEY,
        is_default=True,
        engagement_tracking="esp",
        rate_per_second=1000,
    )


def guests(*names: str) -> list[Guest]:
    made = []
    for name in names:
        guest = GuestFactory(first_name=name, email=f"{name.lower()}@example.com", language="en")
        guest_record_consent(
            guest=guest, purpose="marketing", channel="email", granted=True, source="staff"
        )
        made.append(guest)
    return made


def campaign(name: str, account: ChannelAccount, languages: tuple[str, ...] = ("en",)) -> Campaign:
    made = Campaign.objects.create(
        name=name, purpose="marketing", source=Source.GUESTS, trigger=Trigger.OPERATOR
    )
    CampaignStep.objects.create(campaign=made, position=0, channel="email", account=account)
    for language in languages:
        MessageVariant.objects.create(
            campaign=made,
            language=language,
            subject="Spring at @HOTEL",
            html="<p>Dear @NAME, see <a href='https://offers.example.com/spring'>our offer</a>.</p>",
            text="Dear @NAME",
        )
    return made


def send(made: Campaign, recipients: list[Guest], capture, deliver_queued, user) -> None:
    with capture() as callbacks:
        campaign_send(campaign=made, user=user, record_ids=[g.pk for g in recipients])
    for callback in callbacks:
        callback()
    deliver_queued()


def webhook(account: ChannelAccount, message: OutboundMessage, event: str, **extra: Any) -> None:
    timestamp, token = str(int(time.time())), f"token-{message.pk}-{event}-{time.time_ns()}"
    signature = hmac.new(KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    body = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "timestamp": time.time(),
            "recipient": message.to,
            "user-variables": {"crm_message": str(message.pk)},
            **extra,
        },
    }
    url = reverse("channels_out:status-webhook", kwargs={"account_id": account.pk})
    response = Client().post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 204


def message_to(guest: Guest, made: Campaign) -> OutboundMessage:
    return OutboundMessage.objects.get(guest=guest, origin_id__in=made.runs.values("pk"))


def test_a_campaign_through_an_esp_shows_its_figures_and_the_bookings_it_brought(
    mailgun, django_capture_on_commit_callbacks, deliver_queued, admin_user
) -> None:
    ayse, bora, cem = guests("Ayse", "Bora", "Cem")
    spring = campaign("Spring offer", mailgun)
    start = timezone.now()
    send(spring, [ayse, bora, cem], django_capture_on_commit_callbacks, deliver_queued, admin_user)
    assert len(mail.outbox) == 3

    to_ayse, to_bora = message_to(ayse, spring), message_to(bora, spring)
    webhook(mailgun, to_ayse, "delivered", **{"delivery-status": {"code": 250, "message": "OK"}})
    webhook(
        mailgun,
        to_bora,
        "failed",
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"code": 550, "message": "5.1.1 No such user"}},
    )
    client_info = {"client-info": {"user-agent": HUMAN}}
    webhook(mailgun, to_ayse, "opened", **client_info)
    webhook(mailgun, to_ayse, "opened", **client_info)  # opened twice: one unique open
    webhook(mailgun, to_ayse, "clicked", url="https://offers.example.com/spring", **client_info)

    # Ayşe books 3 days later (attributed), and once more 20 days later (outside the window).
    with time_machine.travel(start + dt.timedelta(days=3)):
        booked = ReservationFactory(booker=ayse, nightly_rate=Decimal("120.00"))
    with time_machine.travel(start + dt.timedelta(days=20)):
        ReservationFactory(booker=ayse, nightly_rate=Decimal("90.00"))
    # Cem books a week later, but got another campaign's message in between: last touch wins.
    with time_machine.travel(start + dt.timedelta(days=5)):
        other = campaign("Spa week", mailgun)
        send(other, [cem], django_capture_on_commit_callbacks, deliver_queued, admin_user)
    with time_machine.travel(start + dt.timedelta(days=7)):
        ReservationFactory(booker=cem, nightly_rate=Decimal("80.00"))

    data = campaign_analytics(spring)
    total = data.total
    assert (total.recipients, total.sent, total.delivered, total.bounced) == (3, 3, 1, 1)
    assert (total.opened, total.clicked) == (1, 1)
    revenue = booked.nights * Decimal("120.00")
    assert (total.bookings, total.revenue) == (1, revenue)
    assert data.links == [("https://offers.example.com/spring", 1)]
    assert [n for _, n, _ in data.bookings_by_day] == [1]
    assert campaign_analytics(other).total.bookings == 1  # Cem's, once, for the last touch
    assert len(attributed_bookings()) == 2

    # The page shows the same figures.
    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("analytics:campaign", args=[spring.pk])).content.decode()
    for figure, value in [("delivered", 1), ("bounced", 1), ("opened", 1), ("clicked", 1)]:
        assert f'data-figure="{figure}">{value}<' in page
    assert f'data-figure="revenue">{revenue:.0f}<' in page
    assert '<th scope="col">Cost (credits)</th>' in page  # the runs table, headed as the CSV
    csv = b"".join(
        client.get(reverse("analytics:campaign-csv", args=[spring.pk])).streaming_content
    ).decode()
    assert csv.splitlines()[1].startswith("Campaign,Spring offer,,3,0,3,1,1,1,1")

    # The next run never mails the bounced address.
    mail.outbox = []
    send(spring, [ayse, bora], django_capture_on_commit_callbacks, deliver_queued, admin_user)
    assert [m.to for m in mail.outbox] == [["ayse@example.com"]]
    skipped = OutboundMessage.objects.filter(guest=bora, status=Status.SKIPPED).get()
    assert skipped.skip_reason == SkipReason.SUPPRESSED


def test_recipients_are_what_the_estimate_called_recipients_and_skips_are_apart(
    mailgun, django_capture_on_commit_callbacks, deliver_queued, admin_user
) -> None:
    ayse, bora = guests("Ayse", "Bora")
    no_consent = GuestFactory(first_name="Cem", email="cem@example.com", language="en")
    no_address = GuestFactory(first_name="Deniz", email="", language="en")
    spring = campaign("Spring offer", mailgun)
    everyone = [ayse, bora, no_consent, no_address]
    forecast = estimate(spring, Occurrence.operator(), record_ids=[g.pk for g in everyone])

    send(spring, everyone, django_capture_on_commit_callbacks, deliver_queued, admin_user)

    total = campaign_analytics(spring).total
    assert (forecast.recipients, sum(forecast.skipped.values())) == (2, 2)
    assert (total.recipients, total.skipped, total.sent) == (2, 2, 2)
    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("analytics:campaign", args=[spring.pk])).content.decode()
    assert 'data-figure="recipients">2<' in page and 'data-figure="skipped">2<' in page
    assert "(0.0 %)" in page  # nothing delivered yet: 0 of the 2 sent
    client.cookies["django_language"] = "tr"
    page = client.get(reverse("analytics:campaign", args=[spring.pk])).content.decode()
    assert "(%0,0)" in page and "0,0 %" not in page  # Turkish writes the sign first


def test_language_variants_are_compared(
    mailgun, django_capture_on_commit_callbacks, deliver_queued, admin_user
) -> None:
    [ayse] = guests("Ayse")
    hans = GuestFactory(first_name="Hans", email="hans@example.com", language="de")
    guest_record_consent(
        guest=hans, purpose="marketing", channel="email", granted=True, source="staff"
    )
    spring = campaign("Spring", mailgun, languages=("en", "de"))
    send(spring, [ayse, hans], django_capture_on_commit_callbacks, deliver_queued, admin_user)
    webhook(mailgun, message_to(hans, spring), "opened", **{"client-info": {"user-agent": HUMAN}})

    languages = {language: f for language, f in campaign_analytics(spring).languages}
    assert (languages["de"].recipients, languages["de"].opened) == (1, 1)
    assert (languages["en"].recipients, languages["en"].opened) == (1, 0)


def test_the_figures_cost_the_same_queries_for_one_run_as_for_three(
    mailgun, django_capture_on_commit_callbacks, deliver_queued, admin_user
) -> None:
    people = guests("Ayse", "Bora", "Cem", "Deniz")
    spring = campaign("Spring", mailgun)
    send(spring, people[:1], django_capture_on_commit_callbacks, deliver_queued, admin_user)
    ReservationFactory(booker=people[0], nightly_rate=Decimal("50"))
    with CaptureQueriesContext(connection) as one:
        campaign_analytics(spring)
        manager_dashboard()
    for guest in people[1:]:
        send(spring, [guest], django_capture_on_commit_callbacks, deliver_queued, admin_user)
        ReservationFactory(booker=guest, nightly_rate=Decimal("50"))
    with CaptureQueriesContext(connection) as three:
        data = campaign_analytics(spring)
        dashboard = manager_dashboard()
    assert len(data.runs) == 4 and data.total.bookings == 4
    assert dashboard.total.bookings == 4
    assert len(three) == len(one)


def test_the_dashboard_is_for_managers(client, django_user_model, mailgun) -> None:
    from django.contrib.auth.models import Group

    from interfaces.staff.roles import sync_roles

    sync_roles()
    for role, status in (("Manager", 200), ("Marketing", 403), ("Front desk", 403)):
        user = django_user_model.objects.create_user(role.replace(" ", "").lower())
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        assert client.get(reverse("analytics:dashboard")).status_code == status, role
