"""Every marketing message carries its way out (P3) on Viber and WhatsApp too: a Viber message
and a WhatsApp free text end with the same per-language hint as an SMS (the Viber or WhatsApp
account's own line when the hotel wrote one); a WhatsApp template goes as Meta approved it.
The counter, the stored row and the provider get the same text, and the length limit is
judged on it. A guest answering STOP/RET on Viber or WhatsApp is opted out on that channel."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from channels_out.backends import Inbound, locmem
from channels_out.meter import message_meter
from channels_out.models import ChannelAccount, OutboundMessage, Status
from channels_out.services import Step, inbound_receive, message_fall_back, message_send
from channels_out.text import MAX_VIBER_CHARS
from guests.models import ConsentRecord, Guest
from guests.services import guest_record_consent
from tests.factories import GuestFactory

from ..campaigns.test_screens_support import staff_user

pytestmark = pytest.mark.django_db

TURKISH = "Iptal icin RET yazip yanitlayin"
RUSSIAN = "Чтобы отписаться, ответьте STOP"
TEXT = "Bahar firsati: %20 indirim"
_ids = itertools.count()


def _subscriber(language: str, *channels: str) -> Guest:
    guest = GuestFactory(language=language)
    for channel in channels:
        guest_record_consent(
            guest=guest, purpose="marketing", channel=channel, granted=True, source="staff"
        )
    return guest


def _reply(account: ChannelAccount, guest: Guest, body: str) -> None:
    inbound_receive(
        account=account,
        inbound=Inbound(
            channel=account.channel,
            provider_message_id=f"IN{next(_ids)}",
            from_number=guest.phone,
            body=body,
        ),
    )


def _sent(capture, step: Step, guest: Guest, purpose: str = "marketing") -> OutboundMessage:
    with capture(execute=True):
        message = message_send(steps=step, guest=guest, purpose=purpose)
    message.refresh_from_db()
    return message


def _provider_got(message: OutboundMessage) -> str:
    [went] = [m for m in locmem.outbox if m.pk == message.pk]
    return went.body


@pytest.fixture
def funded(accounts, top_up) -> dict[str, ChannelAccount]:
    top_up(50)
    return accounts


def test_a_marketing_viber_message_ends_with_the_hint_counter_stored_and_sent_alike(
    funded, django_capture_on_commit_callbacks, client: Client
) -> None:
    guest = _subscriber("ru", "viber")
    meter = message_meter(text=TEXT, channel="viber", purpose="marketing", language="ru")
    client.force_login(staff_user("Marketing"))
    counter = client.post(
        reverse("channels_out:meter"),
        {"text": TEXT, "channel": "viber", "purpose": "marketing", "language": "ru"},
    ).content.decode()

    sent = _sent(django_capture_on_commit_callbacks, Step(channel="viber", text=TEXT), guest)

    # Viber has no SMS encoding to keep: the Russian hint, though the text is GSM-7.
    assert sent.status == Status.SENT and sent.body == f"{TEXT}\n{RUSSIAN}"
    assert _provider_got(sent) == sent.body
    assert meter["opt_out"] is True and meter["characters"] == len(sent.body)
    assert f"{len(sent.body)} characters" in counter and "the opt-out hint counted" in counter
    assert (meter["parts"], meter["cost"]) == (sent.segments, sent.credits)


def test_a_service_viber_message_and_a_marketing_e_mail_carry_no_hint_line(
    funded, django_capture_on_commit_callbacks
) -> None:
    guest = _subscriber("tr", "viber")
    sent = _sent(
        django_capture_on_commit_callbacks,
        Step(channel="viber", text=TEXT),
        guest,
        purpose="service",
    )
    assert sent.body == TEXT
    assert message_meter(text=TEXT, channel="email", purpose="marketing")["opt_out"] is False


def test_the_viber_accounts_own_hint_applies_to_viber_the_sms_accounts_to_its_fallback(
    funded, django_capture_on_commit_callbacks
) -> None:
    ChannelAccount.objects.filter(pk=funded["viber"].pk).update(opt_out_hint="Viber: STOP yazin")
    ChannelAccount.objects.filter(pk=funded["sms"].pk).update(opt_out_hint="RET yaz: 3838")
    guest = _subscriber("tr", "viber", "sms")
    viber = _sent(django_capture_on_commit_callbacks, Step(channel="viber", text=TEXT), guest)
    assert viber.body == f"{TEXT}\nViber: STOP yazin"
    sms = message_fall_back(viber, reason="not a Viber user")
    assert sms is not None and sms.body == f"{TEXT}\nRET yaz: 3838"
    counted = message_meter(
        text=TEXT,
        channel="viber",
        purpose="marketing",
        language="tr",
        account=ChannelAccount.objects.get(pk=funded["viber"].pk),
    )
    assert counted["characters"] == len(viber.body)


def test_the_viber_length_limit_is_judged_on_the_text_with_its_hint(funded) -> None:
    guest = _subscriber("tr", "viber")
    text = "x" * (MAX_VIBER_CHARS - 5)  # fits as written, not with "\n" and the hint
    with pytest.raises(ValidationError, match="at most 1000 characters"):
        message_send(steps=Step(channel="viber", text=text), guest=guest, purpose="marketing")
    assert not OutboundMessage.objects.exists()
    meter = message_meter(text=text, channel="viber", purpose="marketing", language="tr")
    assert meter["too_long"] and meter["cost"] == 0
    # The same text as a service message goes: it carries no hint.
    assert message_send(steps=Step(channel="viber", text=text), guest=guest, purpose="service")
    assert not message_meter(text=text, channel="viber", purpose="service")["too_long"]


def test_a_marketing_whatsapp_free_text_ends_with_the_hint_a_template_does_not(
    funded, django_capture_on_commit_callbacks
) -> None:
    guest = _subscriber("tr", "whatsapp")
    _reply(funded["whatsapp"], guest, "Merhaba")  # opens the 24-hour window for free text
    free = _sent(django_capture_on_commit_callbacks, Step(channel="whatsapp", text=TEXT), guest)
    assert free.status == Status.SENT and free.body == f"{TEXT}\n{TURKISH}"
    assert _provider_got(free) == free.body
    meter = message_meter(text=TEXT, channel="whatsapp", purpose="marketing", language="tr")
    assert meter["characters"] == len(free.body)

    template = _sent(
        django_capture_on_commit_callbacks,
        Step(channel="whatsapp", text=TEXT, template_id="HX123"),
        guest,
    )
    assert template.template_id == "HX123" and template.body == TEXT


def _marketing_consent(guest: Guest, channel: str) -> list[bool]:
    return list(
        ConsentRecord.objects.filter(guest=guest, purpose="marketing", channel=channel)
        .order_by("recorded_at", "pk")
        .values_list("granted", flat=True)
    )


@pytest.mark.parametrize(("channel", "word"), [("viber", "STOP"), ("whatsapp", "Ret")])
def test_stop_on_viber_or_whatsapp_opts_the_guest_out_on_that_channel_only(
    funded, django_capture_on_commit_callbacks, channel, word
) -> None:
    guest = _subscriber("tr", channel, "sms")
    _reply(funded[channel], guest, word)
    assert _marketing_consent(guest, channel) == [True, False]
    assert _marketing_consent(guest, "sms") == [True]
    if channel == "viber":  # and the next marketing Viber message is not sent on Viber
        sent = _sent(django_capture_on_commit_callbacks, Step(channel="viber", text=TEXT), guest)
        assert (sent.channel, sent.status, sent.skip_reason) == (
            "viber",
            Status.SKIPPED,
            "opted_out",
        )
