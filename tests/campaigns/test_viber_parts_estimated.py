"""What staff see is what goes: a Viber-then-SMS campaign's estimate shows, per channel, the
parts each queued message is stored and charged with — one for a Viber message, the SMS
parts for the guest the plan falls back to SMS for — on the staff send screen and in the
admin as in the service."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Source, Trigger
from campaigns.occurrences import Occurrence
from campaigns.services import campaign_send, estimate
from channels_out.ledger import available_credits
from channels_out.models import OutboundMessage, Status
from guests.services import guest_record_consent
from tests.factories import GuestFactory

from .test_admin import form_row, url
from .test_screens_support import staff_user

pytestmark = pytest.mark.django_db

# 150 GSM-7 characters: with "\n" and the Turkish opt-out hint, two SMS parts.
TEXT = ("Lykia Bay'de bahar: deniz manzarali odalarda 3 gece konaklamada %20 indirim. " * 2)[:150]


@pytest.fixture
def viber_then_sms(make_campaign) -> Campaign:
    on_viber = GuestFactory(language="tr", phone="+905321110011")
    guest_record_consent(
        guest=on_viber, purpose="marketing", channel="viber", granted=True, source="staff"
    )
    # No Viber consent: the plan falls back to SMS for him.
    on_sms = GuestFactory(language="tr", phone="+905321110012")
    guest_record_consent(
        guest=on_sms, purpose="marketing", channel="sms", granted=True, source="staff"
    )
    return make_campaign(
        name="Viber bahar",
        purpose="marketing",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        steps=("viber",),
        texts={"tr": TEXT},
    )


def _shown(html: str) -> dict[str, tuple[str, str, str]]:
    """The staff estimate table: channel -> (recipients, parts, credits) as shown."""
    rows = re.findall(
        r"<tr><td>(\w+)</td><td>tr</td><td>(\d+)</td><td>([^<]*)</td><td>[^<]*</td>"
        r"<td>([^<]*)</td></tr>",
        html,
    )
    return {channel: (n, parts, credits) for channel, n, parts, credits in rows}


def test_the_estimate_shows_the_parts_each_message_is_stored_and_charged_with(
    viber_then_sms, accounts, top_up, django_capture_on_commit_callbacks, client, admin_client
) -> None:
    top_up(10)
    marketing = staff_user("Marketing")
    client.force_login(marketing)
    cost = estimate(viber_then_sms, Occurrence.operator())
    screen = client.get(reverse("campaigns:campaign-send", args=[viber_then_sms.pk]))
    admin_page = admin_client.get(url(Campaign, "change", viber_then_sms.pk)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_send(campaign=viber_then_sms, user=marketing)
    sent = OutboundMessage.objects.filter(origin_id=run.pk, status=Status.SENT)
    stored = {m.channel: (m.segments, m.credits) for m in sent}

    assert stored == {"viber": (1, Decimal(1)), "sms": (2, Decimal(2))}
    assert {v.channel: (v.recipients, v.segments, v.credits) for v in cost.by_variant} == {
        channel: (1, parts, credits) for channel, (parts, credits) in stored.items()
    }
    assert available_credits() == Decimal(10) - cost.credits == Decimal(7)  # charged as shown
    # The staff send screen and the admin show the same numbers.
    assert _shown(screen.content.decode()) == {"SMS": ("1", "2", "2"), "Viber": ("1", "1", "1")}
    assert (
        "3 credits for 2 recipients (SMS tr: 1 message, 2 parts GSM-7 = 2, "
        "Viber tr: 1 message, 1 part = 1)"
    ) in form_row(admin_page, "cost_estimate")
