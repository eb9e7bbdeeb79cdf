"""Control characters are refused when a message is queued, on every channel (R4).

A subject with a vertical tab used to be queued and then fail at the SMTP step (the outcome
"unknown"); a NUL byte in an SMS text raised ValueError (PostgreSQL cannot store it). Now
``message_send`` refuses every header and body that holds a character no provider step can
take, with a message naming the character, and writes nothing. Bodies keep their line
breaks (``\\n``, ``\\r\\n``) and tabs.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from channels_out.backends import locmem
from channels_out.models import ChannelAccount, DeliveryEvent, OutboundMessage, Status
from channels_out.services import Step, message_send
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

VT, NUL, ESC, CSI, NEL, SURROGATE = "\x0b", "\x00", "\x1b", "\x9b", "\x85", "\ud800"

REFUSED = [
    # e-mail: the subject is a header, the text and HTML are bodies
    pytest.param(
        "email", {"subject": f"Welcome{VT}back"}, "subject", "U+000B", id="email-subject-vt"
    ),
    pytest.param(
        "email", {"subject": f"Welcome{NUL}"}, "subject", "U+0000", id="email-subject-nul"
    ),
    pytest.param("email", {"subject": f"Welcome{CSI}"}, "subject", "U+009B", id="email-subject-c1"),
    pytest.param(
        "email", {"subject": "Welcome\tback"}, "subject", "U+0009", id="email-subject-tab"
    ),
    pytest.param("email", {"subject": "Hi\u2028there"}, "subject", "U+2028", id="email-subject-ls"),
    pytest.param("email", {"text": f"Hello{ESC}[31m"}, "text", "U+001B", id="email-text-esc"),
    pytest.param("email", {"html": f"<p>Hi{NUL}</p>"}, "html", "U+0000", id="email-html-nul"),
    pytest.param("email", {"to": f"ayse@example.com{NUL}"}, "to", "U+0000", id="email-address"),
    # SMS and Viber: the text is a body
    pytest.param("sms", {"text": f"Your code{NUL}"}, "text", "U+0000", id="sms-nul"),
    pytest.param("sms", {"text": f"Room{NEL}ready"}, "text", "U+0085", id="sms-c1-next-line"),
    pytest.param("sms", {"text": "Room\rready"}, "text", "U+000D", id="sms-lone-carriage-return"),
    pytest.param("sms", {"text": f"Hi {SURROGATE}"}, "text", "U+D800", id="sms-lone-surrogate"),
    pytest.param("sms", {"to": f"+905321234567{VT}"}, "to", "U+000B", id="sms-number"),
    pytest.param("viber", {"text": "Hi\x0cthere"}, "text", "U+000C", id="viber-form-feed"),
    # WhatsApp: free text is a body; a template's variables are single-line values
    pytest.param("whatsapp", {"text": f"Hi{NUL}"}, "text", "U+0000", id="whatsapp-text"),
    pytest.param(
        "whatsapp",
        {"template_id": "HX123", "template_variables": {"1": "Ayşe\tYılmaz"}},
        "template_variables",
        "U+0009",
        id="whatsapp-variable-tab",
    ),
    pytest.param(
        "whatsapp",
        {"template_id": f"HX{NUL}1", "template_variables": {}},
        "template_id",
        "U+0000",
        id="whatsapp-template",
    ),
]
DEFAULTS: dict[str, dict[str, Any]] = {
    "email": {"subject": "Welcome", "text": "Your room is ready.", "html": ""},
    "sms": {"text": "Your room is ready."},
    "viber": {"text": "Your room is ready."},
    "whatsapp": {"text": "Your room is ready."},
}


def _send(channel: str, **fields: Any) -> OutboundMessage:
    guest = GuestFactory(phone="+905321234567", email="ayse@example.com")
    return message_send(steps=Step(channel=channel, **{**DEFAULTS[channel], **fields}), guest=guest)


@pytest.mark.parametrize(("channel", "fields", "field", "code"), REFUSED)
def test_a_control_character_is_refused_at_queue_time_with_its_code(
    accounts, top_up, channel: str, fields: dict[str, Any], field: str, code: str
) -> None:
    top_up(5)
    with pytest.raises(ValidationError) as caught:
        _send(channel, **fields)
    [problem] = caught.value.message_dict[field]
    assert f"cannot be sent ({code})" in problem
    assert not OutboundMessage.objects.exists()
    assert not DeliveryEvent.objects.exists()


@pytest.mark.parametrize("channel", ["sms", "viber", "email"])
def test_a_body_keeps_its_line_breaks_and_tabs(
    accounts, top_up, deliver_queued, channel: str
) -> None:
    top_up(5)
    text = "Dear Ayşe,\r\nyour room:\n\t214\n"
    message = _send(channel, text=text)
    assert message.status == Status.QUEUED
    deliver_queued()
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.SENT
    assert [sent.body for sent in locmem.outbox] == [text]


def test_a_header_control_character_is_refused_too(accounts, top_up) -> None:
    top_up(5)
    with pytest.raises(ValidationError) as caught:
        message_send(
            steps=Step(channel="email", subject="Hi", text="x"),
            guest=GuestFactory(email="ayse@example.com"),
            headers={"Reply-To": f"front@hotel.example{VT}"},
        )
    assert "cannot be sent (U+000B)" in caught.value.message_dict["headers"][0]
    assert not OutboundMessage.objects.exists()


def test_an_account_whose_sender_name_holds_a_control_character_sends_nothing(
    accounts, top_up
) -> None:
    """The account form refuses it; a row changed some other way is caught when queueing."""
    top_up(5)
    ChannelAccount.objects.filter(pk=accounts["email"].pk).update(sender_name="Hotel\x07Lykia")
    with pytest.raises(ValidationError) as caught:
        _send("email")
    assert "cannot be sent (U+0007)" in caught.value.message_dict["account"][0]
    assert not OutboundMessage.objects.exists()


def test_the_account_form_refuses_a_control_character_in_the_sender_name(accounts) -> None:
    account = accounts["email"]
    account.sender_name = "Hotel\x1bLykia"
    with pytest.raises(ValidationError) as caught:
        account.full_clean()
    assert "U+001B" in caught.value.message_dict["sender_name"][0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_in_an_sms_is_a_validation_error_on_postgresql(accounts, top_up) -> None:
    """PostgreSQL cannot store a NUL: it must never reach the INSERT."""
    top_up(5)
    with pytest.raises(ValidationError) as caught:
        _send("sms", text=f"Your code is 123456{NUL}")
    assert "cannot be sent (U+0000)" in caught.value.message_dict["text"][0]
    assert not OutboundMessage.objects.exists()
    # The connection is healthy: the next message goes.
    assert connection.is_usable()
    sent = _send("sms", text="Your code is 123456")
    assert OutboundMessage.objects.get(pk=sent.pk).status == Status.SENT
