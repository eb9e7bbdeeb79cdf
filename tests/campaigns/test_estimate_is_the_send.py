"""On the demo hotel, the estimate of a send is what the send then queues and reserves, exactly.

For each campaign — SMS, e-mail, Viber→SMS and a Viber/e-mail plan; service and marketing;
guests and reservations — the estimate's recipients and credits equal the messages
``campaign_send`` queued for the run and the credits the ledger reserved for them, and its
"would be skipped" counts equal the skipped rows by reason. The campaigns go one after the
other, so the later marketing ones meet the frequency cap the earlier ones filled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from campaigns.models import (
    Campaign,
    CampaignRun,
    CampaignSettings,
    CampaignStep,
    MessageVariant,
    Recipients,
    Source,
    Trigger,
)
from campaigns.occurrences import Occurrence
from campaigns.services import campaign_send, estimate
from channels_out.ledger import credits_add
from channels_out.models import ChannelAccount, LedgerEntry, OutboundMessage, Status
from channels_out.services import suppression_add
from guests.models import ConsentPurpose, ContactChannel, Guest

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def demo_hotel(django_db_setup: None, django_db_blocker) -> Iterator[None]:
    """The demo hotel with its sandbox accounts, seeded once for the module and rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", verbosity=0)
        call_command("setup_sandbox", verbosity=0)
        credits_add(amount=Decimal(100_000), key="test:plenty")
        # Addresses that bounced (E2): the sender skips them, so the estimate must too.
        for guest in Guest.objects.exclude(email="").order_by("pk")[:40:4]:
            suppression_add(address=guest.email.upper(), reason="hard_bounce")
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def patient_renders(monkeypatch) -> None:
    """Each render is bounded by wall-clock time (200 ms); on a machine busy with other work a
    render may overrun it in one pass and not the other. The comparison is about what the
    sender decides, so a render here gets the time it needs."""
    from campaigns.rendering import CompiledVariant

    monkeypatch.setattr(CompiledVariant.render, "__kwdefaults__", {"time_limit": 30.0})


def _campaign(name: str, *, purpose: str, source: str, steps: list[str], **fields) -> Campaign:
    campaign = Campaign.objects.create(
        name=name, purpose=purpose, source=source, trigger=Trigger.OPERATOR, **fields
    )
    accounts = {a.channel: a for a in ChannelAccount.objects.filter(name__startswith="Sandbox")}
    for position, channel in enumerate(steps):
        CampaignStep.objects.create(
            campaign=campaign, position=position, channel=channel, account=accounts[channel]
        )
    texts = {
        "en": "Dear @NAME, a note from @HOTEL. Manage your details: @PORTAL",
        "tr": "Sayın @NAME @SURNAME, @HOTEL'den bir not. Bilgileriniz: @PORTAL",
        "de": "Hallo @NAME, Grüße vom @HOTEL. Ihre Angaben: @PORTAL",
        "ru": "@NAME, привет от @HOTEL: @PORTAL",
    }
    if purpose == ConsentPurpose.MARKETING:
        texts = {k: f"{v} Opt out: @UNSUBSCRIBE" for k, v in texts.items()}
    for language, text in texts.items():
        MessageVariant.objects.create(
            campaign=campaign,
            language=language,
            text=text,
            subject="@HOTEL",
            html=f"<p>{text}</p>",
        )
    return campaign


def _sent(campaign: Campaign, user, capture) -> CampaignRun:
    """Send as staff do; the run's chunks are queued (their tasks run), nothing is delivered."""
    with capture() as callbacks:
        run = campaign_send(campaign=campaign, user=user)
    # The chunks' tasks run inline; the dispatch of the messages they queue waits for a
    # commit that never comes, so the log shows what was queued.
    for callback in callbacks:
        callback()
    run.refresh_from_db()
    return run


def _final_rows(run: CampaignRun):
    """Each record's last row: the step that was queued, or the last one skipped."""
    return OutboundMessage.objects.filter(
        origin_type=ContentType.objects.get_for_model(CampaignRun),
        origin_id=run.pk,
        fallback__isnull=True,
    )


CAMPAIGNS = [
    # (name, purpose, source, plan, extra fields)
    ("Service SMS to stays", ConsentPurpose.SERVICE, Source.RESERVATIONS, ["sms"], {}),
    ("Marketing SMS to stays", ConsentPurpose.MARKETING, Source.RESERVATIONS, ["sms"], {}),
    ("Marketing e-mail to guests", ConsentPurpose.MARKETING, Source.GUESTS, ["email"], {}),
    ("Service Viber then SMS", ConsentPurpose.SERVICE, Source.RESERVATIONS, ["viber"], {}),
    (
        "Marketing Viber, else e-mail",
        ConsentPurpose.MARKETING,
        Source.GUESTS,
        ["viber", "email"],
        {},
    ),
    ("Marketing SMS again (frequency cap)", ConsentPurpose.MARKETING, Source.GUESTS, ["sms"], {}),
    ("Service e-mail to guests", ConsentPurpose.SERVICE, Source.GUESTS, ["email"], {}),
    # Companions: one message per person of the stay, each with his own key and consent.
    (
        "Service SMS to every adult of the stay",
        ConsentPurpose.SERVICE,
        Source.RESERVATIONS,
        ["sms"],
        {"recipients": Recipients.ADULTS},
    ),
    (
        "Marketing e-mail to each guest with his own address",
        ConsentPurpose.MARKETING,
        Source.RESERVATIONS,
        ["email"],
        {"recipients": Recipients.OWN_CONTACT},
    ),
]


def test_each_estimate_is_exactly_what_its_send_queues_and_reserves(
    django_capture_on_commit_callbacks,
) -> None:
    user = get_user_model().objects.create_user("marketer", password="x")
    CampaignSettings.objects.update(
        approval_recipient_threshold=100_000, approval_cost_threshold=100_000
    )
    seen_reasons: Counter[str] = Counter()
    for name, purpose, source, steps, fields in CAMPAIGNS:
        campaign = _campaign(name, purpose=purpose, source=source, steps=steps, **fields)
        forecast = estimate(campaign, Occurrence.operator())
        run = _sent(campaign, user, django_capture_on_commit_callbacks)
        assert run.state == CampaignRun.State.DONE, name

        final = _final_rows(run)
        queued = final.filter(status=Status.QUEUED)
        reserved = LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.RESERVE, message__in=queued
        ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        skipped = Counter(final.filter(status=Status.SKIPPED).values_list("skip_reason", flat=True))
        assert (forecast.recipients, forecast.credits) == (queued.count(), reserved), name
        reasons = dict(
            final.filter(status=Status.SKIPPED).values_list("skip_reason", "reason").distinct()
        )
        assert forecast.skipped == skipped, (name, reasons)
        assert run.estimated_recipients == queued.count(), name
        by_channel = Counter(queued.values_list("channel", flat=True))
        assert {
            channel: sum(v.recipients for v in forecast.by_variant if v.channel == channel)
            for channel in by_channel
        } == dict(by_channel), name
        seen_reasons.update(skipped)

    # The demo gives every kind of skip the issue saw: the checks really ran.
    assert {
        "no_address",
        "no_consent",
        "frequency_cap",
        "no_data_consent",
        "suppressed",
    } <= set(seen_reasons)
    # The companions of the demo's stays were written to, each in a message of his own.
    companions = OutboundMessage.objects.filter(dedupe_key__contains=":guest:")
    assert companions.filter(status=Status.QUEUED).exists()
    # A Viber plan that cannot reach a guest fell back at queue time, and the estimate knew.
    fallbacks = OutboundMessage.objects.filter(fallback_for__isnull=False, status=Status.QUEUED)
    assert fallbacks.filter(channel=ContactChannel.EMAIL).exists()


def test_the_approval_threshold_counts_those_who_would_get_it(
    django_user_model, django_capture_on_commit_callbacks
) -> None:
    """A send reaching fewer people than its audience is judged by who would get it."""
    user = django_user_model.objects.create_user("operator", password="x")
    campaign = _campaign(
        "Marketing SMS, threshold", purpose="marketing", source=Source.RESERVATIONS, steps=["sms"]
    )
    from campaigns.audiences import audience

    in_audience = audience(campaign, Occurrence.operator()).count()
    forecast = estimate(campaign, Occurrence.operator())
    assert forecast.recipients < in_audience  # the demo has guests without consent
    CampaignSettings.objects.update(
        approval_recipient_threshold=forecast.recipients, approval_cost_threshold=100_000
    )
    run = _sent(campaign, user, django_capture_on_commit_callbacks)
    assert run.state == CampaignRun.State.DONE
    assert run.estimated_recipients == forecast.recipients
