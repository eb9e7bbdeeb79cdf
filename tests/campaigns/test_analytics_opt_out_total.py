"""The managers' dashboard, by channel: the Total row's opt-outs are the sum of the channels'
rows and the opt-outs the database holds for the period (QA1 item 11) — a channel guests
opted out of without a message in the period included."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from campaigns.analytics import OPT_OUT_SOURCES
from channels_out.services import Step, message_send
from guests.models import ConsentPurpose, ConsentRecord
from guests.services import guest_record_consent
from tests.factories import GuestFactory

from .test_screens_support import staff_user

pytestmark = pytest.mark.django_db


def _opt_out(channel: str, source: str) -> None:
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel=channel,
        granted=False,
        source=source,
    )


def test_the_total_of_opt_outs_is_the_sum_of_the_channels_and_the_database(
    client, accounts
) -> None:
    for index in range(2):
        message_send(steps=Step(channel="sms", to=f"+90532111220{index}", text="Hi"))
    message_send(steps=Step(channel="email", to="a@example.com", subject="Hi", text="Hi"))
    for channel, source in (
        ("sms", "unsubscribe_link"),
        ("sms", "inbound_keyword"),
        ("email", "unsubscribe_link"),
        ("email", "complaint"),
        ("email", "provider_unsub"),
        ("viber", "inbound_keyword"),  # no Viber message in the period
    ):
        _opt_out(channel, source)
    _opt_out("sms", "staff")  # staff recording a refusal is not an opt-out

    client.force_login(staff_user("Manager"))
    html = client.get(reverse("analytics:dashboard")).content.decode()
    table = html.split('id="channels-heading"')[1].split("</table>")[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>.*?<td>(\d*)</td></tr>', table, re.S)
    by_label = {label: int(n) for label, n in rows[:-1]}
    total_label, total = rows[-1]
    in_db = ConsentRecord.objects.filter(
        purpose=ConsentPurpose.MARKETING, granted=False, source__in=OPT_OUT_SOURCES
    ).count()

    assert by_label == {"E-mail": 3, "SMS": 2, "Viber": 1}
    assert total_label == "Total" and int(total) == sum(by_label.values()) == in_db == 6
