"""What staff see is what goes: the editor's counter and the cost estimate of a marketing
SMS count the opt-out hint the sender appends, so their parts and credits are those the
sent message is stored and charged with — here a Turkish text the hint pushes into a
second part."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Source, Trigger
from campaigns.occurrences import Occurrence
from campaigns.services import campaign_send, estimate
from channels_out.backends import locmem
from channels_out.ledger import available_credits
from channels_out.meter import message_meter
from channels_out.models import OutboundMessage, Status
from channels_out.opt_out import OPT_OUT_HINTS
from channels_out.text import count_segments
from guests.services import guest_record_consent
from tests.factories import GuestFactory

from .test_screens_support import staff_user

pytestmark = pytest.mark.django_db

PHONE = "+905321110001"
# 150 GSM-7 characters: one part as written, two with "\n" and the Turkish hint.
TEXT = ("Lykia Bay'de bahar: deniz manzarali odalarda 3 gece konaklamada %20 indirim. " * 2)[:150]


@pytest.fixture
def spring(make_campaign) -> Campaign:
    guest = GuestFactory(language="tr", phone=PHONE)
    guest_record_consent(
        guest=guest, purpose="marketing", channel="sms", granted=True, source="staff"
    )
    return make_campaign(
        name="Bahar",
        purpose="marketing",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"tr": TEXT},
    )


def _counter(client: Client, **data: str) -> str:
    answer = client.post(
        reverse("channels_out:meter"), {"text": TEXT, "channel": "sms", "to": PHONE, **data}
    )
    assert answer.status_code == 200
    return re.sub(r"\s+", " ", answer.content.decode())


def test_counter_and_estimate_count_the_hint_the_sent_message_is_charged_for(
    spring, accounts, top_up, django_capture_on_commit_callbacks, client
) -> None:
    top_up(10)
    assert count_segments(TEXT).parts == 1
    marketing = staff_user("Marketing")
    client.force_login(marketing)

    meter = message_meter(text=TEXT, channel="sms", to=PHONE, purpose="marketing", language="tr")
    counter = _counter(client, purpose="marketing", language="tr", account=str(accounts["sms"].pk))
    assert "2 parts of 153" in counter and "cost 2 credits" in counter
    assert "the opt-out hint counted" in counter
    assert "1 part of 160" in _counter(client, purpose="service", language="tr")
    cost = estimate(spring, Occurrence.operator())
    [line] = cost.by_variant

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_send(campaign=spring, user=marketing)
    [sent] = OutboundMessage.objects.filter(origin_id=run.pk)

    assert sent.status == Status.SENT
    [went] = [m for m in locmem.outbox if m.pk == sent.pk]
    assert went.body == sent.body  # what the provider got
    assert sent.body == f"{TEXT}\n{OPT_OUT_HINTS['tr']}"
    assert (meter["parts"], meter["cost"]) == (sent.segments, sent.credits) == (2, Decimal(2))
    assert (line.segments, line.credits) == (sent.segments, sent.credits)
    assert available_credits() == Decimal(10) - sent.credits  # charged what was shown


def test_a_viber_campaign_is_estimated_previewed_and_sent_with_the_hint(
    make_campaign, accounts, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    guest = GuestFactory(language="tr", phone="+905321110002")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="viber", granted=True, source="staff"
    )
    campaign = make_campaign(
        name="Viber bahar",
        purpose="marketing",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        steps=("viber",),
        texts={"tr": TEXT},
    )
    [line] = estimate(campaign, Occurrence.operator()).by_variant
    meter = message_meter(text=TEXT, channel="viber", purpose="marketing", language="tr")
    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_send(campaign=campaign, user=staff_user("Marketing"))
    [sent] = OutboundMessage.objects.filter(origin_id=run.pk)
    [went] = [m for m in locmem.outbox if m.pk == sent.pk]
    assert sent.channel == "viber" and sent.status == Status.SENT
    assert went.body == sent.body == f"{TEXT}\n{OPT_OUT_HINTS['tr']}"
    assert meter["characters"] == len(sent.body)
    # Viber is priced per message: one, the hint included, as estimated, shown and charged.
    assert (sent.segments, sent.credits) == (meter["parts"], meter["cost"]) == (1, Decimal(1))
    assert line.credits == sent.credits
