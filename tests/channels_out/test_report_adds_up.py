"""Released credits are no cost: the report, its rows, the chart and the log all equal the posted debits.

A Viber message the provider took and then reported "not a Viber user" (its credits released,
an SMS sent instead) and an SMS the provider refused (released) cost nothing; the SMS that
went costs its parts.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from channels_out import dispatch
from channels_out.backends import locmem
from channels_out.backends.base import TransportError
from channels_out.ledger import credits_add
from channels_out.models import ChannelAccount, LedgerEntry, OutboundMessage, Status
from channels_out.selectors import credit_report
from channels_out.services import Step, message_apply_status, message_send
from interfaces.operator.views.chart import spend_chart
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    sync_roles()
    user = django_user_model.objects.create_user("manager", first_name="Mia")
    user.groups.add(Group.objects.get(name="Manager"))
    client.force_login(user)
    return user


@pytest.fixture
def sent(accounts, staff, django_capture_on_commit_callbacks):
    """A Viber message that fell back to SMS after a receipt, and a refused SMS."""
    credits_add(amount=Decimal(100), key="buy")
    # Vonage charges Viber on delivery: an accepted Viber message only holds its credit.
    ChannelAccount.objects.filter(pk=accounts["viber"].pk).update(backend="vonage_viber")
    viber = message_send(
        steps=Step(channel="viber", text="Welcome!"),
        guest=GuestFactory(phone="+905321110001"),
        user=staff,
    )
    message_apply_status(viber, Status.SENT, source="provider", provider_message_id="v-1")
    with django_capture_on_commit_callbacks(execute=False):
        message_apply_status(
            viber, Status.FAILED, source="webhook", code="1300", description="not a Viber user"
        )
    fallback = OutboundMessage.objects.get(fallback_for=viber)
    dispatch.deliver([fallback.pk])

    refused = message_send(
        steps=Step(channel="sms", text="Your room is ready."),
        guest=GuestFactory(phone="+905321110002"),
        user=staff,
    )
    locmem.script(TransportError("invalid destination", permanent=True, code="21211"))
    dispatch.deliver([refused.pk])
    return {
        "viber": OutboundMessage.objects.get(pk=viber.pk),
        "fallback": OutboundMessage.objects.get(pk=fallback.pk),
        "refused": OutboundMessage.objects.get(pk=refused.pk),
    }


def test_the_report_and_every_breakdown_equal_the_posted_debits(sent) -> None:
    assert sent["viber"].status == Status.FAILED and sent["viber"].sent_at is not None
    assert (sent["fallback"].status, sent["refused"].status) == (Status.SENT, Status.FAILED)
    posted = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.POST).aggregate(s=Sum("amount"))["s"]
    assert posted == Decimal(1)  # the fallback SMS only

    today = timezone.localdate()
    report = credit_report(start=today, end=today)
    assert report.spent == posted
    for rows in (report.by_channel, report.by_campaign, report.by_staff):
        assert sum(r.credits for r in rows) == posted
    assert {r.label: r.credits for r in report.by_channel} == {
        "SMS": Decimal(1),
        "Viber": Decimal(0),
    }
    assert sum(c for _day, _channel, c in report.daily) == posted
    assert spend_chart(report.daily, start=today, end=today).rows[0][2] == posted


def test_the_credits_screen_shows_the_posted_cost(client, sent) -> None:
    page = client.get(reverse("channels_out:credits")).content.decode()
    report = credit_report(start=timezone.localdate(), end=timezone.localdate())
    assert report.spent == Decimal(1)
    assert re.search(r"Viber</th><td>1</td><td>0</td>", page), page


def test_the_log_list_detail_and_csv_show_nothing_spent_on_released_messages(client, sent) -> None:
    rows = client.get(reverse("channels_out:message-list")).content.decode()
    for name, spent in (("viber", "0"), ("refused", "0"), ("fallback", "1")):
        message = sent[name]
        detail = client.get(reverse("channels_out:message-detail", args=[message.pk]))
        assert re.search(rf'id="credits-spent">{spent}\b', detail.content.decode()), name
        row = re.search(
            rf'href="{reverse("channels_out:message-detail", args=[message.pk])}".*?</tr>',
            rows,
            re.S,
        )
        assert row is not None, name
        assert re.search(rf"<td>{spent}(\s|<)", row.group(0)), (name, row.group(0))

    export = client.get(reverse("channels_out:message-export"))
    table = list(
        csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")))
    )
    spent_by_id = {int(r["id"]): Decimal(r["credits"]) for r in table}
    assert spent_by_id[sent["viber"].pk] == 0
    assert spent_by_id[sent["refused"].pk] == 0
    assert spent_by_id[sent["fallback"].pk] == 1
    assert sent["refused"].credits == 1  # it was priced, then released
