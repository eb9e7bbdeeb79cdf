"""A campaign's *shorten links in SMS* (E3): what the editor's counter and the cost estimate
say is what the run sends — the short link's parts and credits — and a guest's click on the
short link is a click in the campaign's analytics, per link, as an e-mail click is."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.analytics import campaign_analytics
from campaigns.models import Campaign, Source, Trigger
from campaigns.occurrences import Occurrence
from campaigns.services import campaign_send, estimate
from channels_out.backends import locmem
from channels_out.ledger import available_credits
from channels_out.models import OutboundMessage, ShortLink, Status
from channels_out.text import count_segments
from tests.factories import GuestFactory

from .test_screens_support import editor_data, staff_user

pytestmark = pytest.mark.django_db

BASE = "https://crm.lykiabay.example"
HUMAN = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile Safari/537.36"
OFFER = (
    "https://offers.lykiabay-hotels.example/spring/sea-view-suite?utm_source=sms"
    "&utm_medium=campaign&utm_campaign=spring-2027&room=sea&nights=3&board=all-inclusive"
)
# 2 GSM-7 parts as written; 1 with the short link.
TEXT = f"Spring at Lykia Bay: 3 nights by the sea, 20% off. Book: {OFFER}"


@pytest.fixture(autouse=True)
def base_url(settings) -> None:
    settings.PUBLIC_BASE_URL = BASE
    settings.SCANNER_PREFETCH_SECONDS = 0


@pytest.fixture
def spring(make_campaign) -> Campaign:
    return make_campaign(
        name="Spring offer",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": TEXT},
        shorten_links=True,
    )


def _counter(client: Client, *, shorten: bool) -> str:
    data = {"text": TEXT, "channel": "sms", "to": "+905321110001"}
    if shorten:
        data["shorten_links"] = "on"
    answer = client.post(reverse("channels_out:meter"), data)
    assert answer.status_code == 200
    return re.sub(r"\s+", " ", answer.content.decode())


def _send(campaign: Campaign, user, capture) -> list[OutboundMessage]:
    with capture() as callbacks:
        run = campaign_send(campaign=campaign, user=user)
    for callback in callbacks:
        callback()
    return list(OutboundMessage.objects.filter(origin_id=run.pk).order_by("pk"))


def test_counter_and_estimate_equal_the_parts_and_credits_of_the_sent_messages(
    spring, top_up, django_capture_on_commit_callbacks, client, deliver_queued
) -> None:
    top_up(10)
    GuestFactory(language="en", phone="+905321110001")
    GuestFactory(language="en", phone="+905321110002")
    marketing = staff_user("Marketing")
    client.force_login(marketing)
    assert count_segments(TEXT).parts == 2

    # The editor's counter: the box as written, with the campaign's option ticked or not.
    assert "1 part of 160" in _counter(client, shorten=True)
    assert "cost 1 credit" in _counter(client, shorten=True)
    assert "2 parts of 153" in _counter(client, shorten=False)
    cost = estimate(spring, Occurrence.operator())
    assert (cost.recipients, cost.credits) == (2, Decimal(2))
    [by_variant] = cost.by_variant
    assert (by_variant.segments, by_variant.credits) == (2, Decimal(2))  # 1 part each

    sent = _send(spring, marketing, django_capture_on_commit_callbacks)

    assert [(m.status, m.segments, m.credits) for m in sent] == [
        (Status.QUEUED, 1, Decimal(1)),
        (Status.QUEUED, 1, Decimal(1)),
    ]
    assert sum(m.credits for m in sent) == cost.credits
    assert available_credits() == Decimal(10) - cost.credits  # reserved what was estimated
    assert all(OFFER not in m.body and f"{BASE}/s/" in m.body for m in sent)
    deliver_queued()
    went = sorted(locmem.outbox, key=lambda m: m.pk)
    assert [count_segments(m.body).parts for m in went] == [1, 1]  # what the provider got
    assert [m.body for m in went] == [m.body for m in sent]
    assert available_credits() == Decimal(10) - cost.credits  # charged what was estimated
    assert ShortLink.objects.filter(url=OFFER).count() == 2  # one code per message
    assert len(set(ShortLink.objects.values_list("code", flat=True))) == 2


def test_a_click_on_the_short_link_shows_in_the_campaigns_analytics(
    spring, top_up, django_capture_on_commit_callbacks, deliver_queued
) -> None:
    top_up(10)
    GuestFactory(language="en", phone="+905321110001")
    GuestFactory(language="en", phone="+905321110002")
    first, second = _send(spring, staff_user("Marketing"), django_capture_on_commit_callbacks)
    deliver_queued()
    code = ShortLink.objects.get(message=first).code

    client = Client()
    assert client.get(f"/s/{code}", HTTP_USER_AGENT=HUMAN)["Location"] == OFFER
    client.get(f"/s/{code}", HTTP_USER_AGENT=HUMAN)  # the same guest again: one unique click
    scanner = ShortLink.objects.get(message=second).code
    client.get(f"/s/{scanner}", HTTP_USER_AGENT="Mozilla/5.0 (compatible; Barracuda Sentinel)")

    data = campaign_analytics(spring)
    assert (data.total.sent, data.total.clicked) == (2, 1)
    assert data.links == [(OFFER, 1)]


def test_the_option_is_off_by_default_and_saved_from_the_editor(client, accounts) -> None:
    client.force_login(staff_user("Marketing"))
    create = reverse("campaigns:campaign-create")
    html = client.get(create).content.decode()
    assert 'name="shorten_links"' in html and 'name="shorten_links" checked' not in html

    client.post(create, editor_data(name="Plain", texts={"en": TEXT}))
    client.post(create, editor_data(name="Short", texts={"en": TEXT}, shorten_links="on"))

    assert dict(Campaign.objects.values_list("name", "shorten_links")) == {
        "Plain": False,
        "Short": True,
    }
