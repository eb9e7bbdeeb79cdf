"""SMS short links (E3): an SMS's outside links go as random short links on PUBLIC_BASE_URL
that redirect only to the stored URL and count clicks as e-mail clicks are counted; the text
priced, stored and sent is the short one, and a retry or resend never makes new codes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from channels_out import dispatch, tracking
from channels_out.backends import TransportError, locmem
from channels_out.meter import message_meter
from channels_out.models import Engagement, OutboundMessage, ShortLink, Status
from channels_out.services import Step, message_resend, message_send
from channels_out.text import count_segments
from guests.models import ConsentSource
from guests.services import guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

BASE = "https://crm.lykiabay.example"
HUMAN = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"
OFFER = (
    "https://offers.lykiabay-hotels.example/spring/sea-view-suite?utm_source=sms"
    "&utm_medium=campaign&utm_campaign=spring-2027&room=sea&nights=3&board=all-inclusive"
)
# 2 GSM-7 parts with the long link; 1 once it is a 41-character short link.
TEXT = f"Spring at Lykia Bay: 3 nights by the sea, 20% off. Book: {OFFER}"
SHORT = re.compile(re.escape(BASE) + r"/s/([A-Za-z0-9]{10})")


@pytest.fixture(autouse=True)
def base_url(settings) -> None:
    settings.PUBLIC_BASE_URL = BASE
    settings.SCANNER_PREFETCH_SECONDS = 10


def _send(text: str = TEXT, *, shorten: bool = True, **kwargs) -> OutboundMessage:
    return message_send(
        steps=Step(channel="sms", text=text, shorten_links=shorten),
        guest=kwargs.pop("guest", None) or GuestFactory(),
        **kwargs,
    )


def _delivered_an_hour_ago(message: OutboundMessage) -> OutboundMessage:
    with time_machine.travel(timezone.now() - dt.timedelta(hours=1), tick=False):
        dispatch.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def _code(message: OutboundMessage) -> str:
    found = SHORT.findall(message.body)
    assert len(found) == 1, message.body
    return found[0]


def test_the_text_rule_shortens_outside_links_only_and_keeps_the_sentence() -> None:
    text = (
        f"Offer: {OFFER}. Again ({OFFER}) — menu https://menu.example/tr, "
        f"your page {BASE}/guest/u/abc/ mail desk@lykiabay.example"
    )
    shortened, links = tracking.shortened_text(text)

    codes = SHORT.findall(shortened)
    assert len(codes) == 3 and codes[0] == codes[1] != codes[2]  # one code per URL
    assert links == {codes[0]: OFFER, codes[2]: "https://menu.example/tr"}
    assert f"Offer: {BASE}/s/{codes[0]}. Again ({BASE}/s/{codes[0]})" in shortened
    assert f"{BASE}/guest/u/abc/" in shortened  # our own pages carry tokens: never shortened
    # The counter's stand-in has the length of a real one.
    assert len(tracking.text_as_sent(text)) == len(shortened)


def test_codes_are_random_letters_and_digits_not_a_sequence() -> None:
    codes = {tracking.short_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(tracking.is_short_code(code) for code in codes)
    assert not tracking.is_short_code("abc") and not tracking.is_short_code("Ab3xYz9QkL\x00")


def test_an_sms_goes_with_the_short_link_priced_as_sent(accounts, top_up) -> None:
    top_up(5)
    assert count_segments(TEXT).parts == 2

    message = _delivered_an_hour_ago(_send())

    code = _code(message)
    assert OFFER not in message.body
    assert locmem.outbox[-1].body == message.body  # what went is what is stored
    assert (message.segments, message.credits, message.tracked) == (1, Decimal(1), True)
    link = ShortLink.objects.get()
    assert (link.code, link.message_id, link.url) == (code, message.pk, OFFER)


def test_the_short_link_redirects_to_the_original_and_counts_one_unique_click(
    accounts, top_up
) -> None:
    top_up(5)
    message = _delivered_an_hour_ago(_send())
    client = Client()

    first = client.get(f"/s/{_code(message)}", HTTP_USER_AGENT=HUMAN)
    message.refresh_from_db()
    clicked_at = message.clicked_at
    second = client.get(f"/s/{_code(message)}", HTTP_USER_AGENT=HUMAN)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == OFFER
    assert first["Referrer-Policy"] == "no-referrer"
    message.refresh_from_db()
    assert clicked_at is not None and message.clicked_at == clicked_at  # unique: the first
    assert list(Engagement.objects.values_list("kind", "human", "url", "source")) == [
        ("click", True, OFFER, "short"),
        ("click", True, OFFER, "short"),
    ]


def test_unknown_tampered_and_malformed_codes_are_404_and_count_nothing(accounts, top_up) -> None:
    top_up(5)
    code = _code(_delivered_an_hour_ago(_send()))
    other = "A" if code[-1] != "A" else "B"
    client = Client(raise_request_exception=False)
    for bad in (
        code[:-1] + other,  # one character changed
        code[:-1],  # too short
        code + "x",  # too long
        code.lower() if code.lower() != code else code.upper(),
        "%00" + code[1:],
        "..%2F..%2Fadmin",
        "https:%2F%2Fevil.example",
    ):
        response = client.get(f"/s/{bad}", HTTP_USER_AGENT=HUMAN)
        assert response.status_code == 404, bad
        assert "Location" not in response
    assert not Engagement.objects.exists()


def test_scanners_previews_and_prefetches_are_kept_but_not_counted(
    accounts, top_up, settings
) -> None:
    top_up(5)
    message = _delivered_an_hour_ago(_send())
    path = f"/s/{_code(message)}"
    client = Client()
    client.get(path, HTTP_USER_AGENT="facebookexternalhit/1.1 Facebot Twitterbot/1.0")  # iMessage
    client.get(path)  # no user agent
    head = client.head(path, HTTP_USER_AGENT=HUMAN)  # a HEAD only looks
    settings.SCANNER_PREFETCH_SECONDS = 7200  # sent an hour ago: inside the pre-fetch window
    client.get(path, HTTP_USER_AGENT=HUMAN)

    assert head.status_code == 302
    message.refresh_from_db()
    assert message.clicked_at is None and message.opened_at is None
    assert list(Engagement.objects.values_list("human", flat=True)) == [False, False, False]


def test_retries_and_a_resend_keep_the_text_and_its_code(
    accounts, top_up, django_user_model
) -> None:
    top_up(5)
    message = _send(dedupe_key="offer:1")
    again = _send(dedupe_key="offer:1")  # the same request twice: the same row
    assert again.pk == message.pk and again.body == message.body
    code = _code(message)

    locmem.script(TransportError("busy"), TransportError("timeout", ambiguous=True))
    dispatch.deliver([message.pk])  # a transient error: retried later
    OutboundMessage.objects.filter(pk=message.pk).update(not_before=None)
    dispatch.deliver([message.pk])  # an unknown outcome: an operator resends it
    copy = message_resend(message=message, user=django_user_model.objects.create_user("op"))
    dispatch.deliver([copy.pk])

    copy.refresh_from_db()
    assert copy.status == Status.SENT and _code(copy) == code
    assert [sent.body for sent in locmem.outbox] == [message.body]
    assert list(ShortLink.objects.values_list("code", flat=True)) == [code]
    assert Client().get(f"/s/{code}", HTTP_USER_AGENT=HUMAN)["Location"] == OFFER


def test_without_the_option_or_on_other_channels_the_text_is_unchanged(accounts, top_up) -> None:
    top_up(5)
    plain = _send(shorten=False)
    viber = message_send(
        steps=Step(channel="whatsapp", text=TEXT, shorten_links=True),
        guest=GuestFactory(),
    )
    email = message_send(
        steps=Step(channel="email", subject="Spring", text=TEXT, shorten_links=True),
        guest=GuestFactory(email="guest@example.com"),
    )
    assert plain.body == TEXT and (plain.segments, plain.tracked) == (2, False)
    assert viber.body == TEXT and email.body == TEXT
    assert not ShortLink.objects.exists()


def test_a_guest_who_refused_analytics_gets_the_original_link(accounts, top_up) -> None:
    top_up(5)
    guest = GuestFactory()
    guest_record_consent(
        guest=guest, purpose="analytics", channel="", granted=False, source=ConsentSource.STAFF
    )
    message = _send(guest=guest)
    assert message.body == TEXT and (message.segments, message.tracked) == (2, False)
    assert not ShortLink.objects.exists()


def test_the_sms_fallback_of_viber_is_shortened_and_viber_keeps_the_link(accounts, top_up) -> None:
    top_up(5)
    guest = GuestFactory()
    viber = message_send(steps=Step(channel="viber", text=TEXT, shorten_links=True), guest=guest)
    assert viber.body == TEXT
    locmem.script(TransportError("not a Viber user", permanent=True))
    dispatch.deliver([viber.pk])

    sms = OutboundMessage.objects.get(fallback_for=viber)
    assert sms.channel == "sms" and sms.segments == 1
    assert ShortLink.objects.get().message_id == sms.pk
    assert ShortLink.objects.get().code == _code(sms)


def test_the_counter_counts_the_short_link_as_the_sender_does(accounts, top_up) -> None:
    top_up(5)
    long = message_meter(text=TEXT, channel="sms", to="+905321234567")
    short = message_meter(text=TEXT, channel="sms", to="+905321234567", shorten_links=True)
    sent = _send(guest=GuestFactory(phone="+905321234567"))

    assert (long["parts"], long["cost"]) == (2, Decimal(2))
    assert (short["parts"], short["cost"]) == (sent.segments, sent.credits) == (1, Decimal(1))
    assert short["characters"] == len(sent.body)
    assert short["info"] == count_segments(sent.body)


def test_a_manager_who_owes_his_second_factor_still_follows_a_guests_link(
    accounts, top_up, settings, admin_user
) -> None:
    settings.STAFF_TWO_FACTOR = "required"
    top_up(5)
    code = _code(_delivered_an_hour_ago(_send()))
    client = Client()
    client.force_login(admin_user)
    assert client.get(f"/s/{code}", HTTP_USER_AGENT=HUMAN)["Location"] == OFFER
