"""A quick reply is checked when saved, and again when used: staff cannot store a text the
inbox would send literally or could not send at all, and one stored before the checks is
refused when used, never sent as written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from channels_out.models import OutboundMessage
from interfaces.inbox.models import Conversation, QuickReply
from interfaces.inbox.quick_text import PLACEHOLDERS
from interfaces.inbox.services import conversation_reply, quick_reply_save, quick_reply_text

pytestmark = pytest.mark.django_db
NONCE = "0123456789abcdef0123456789abcdef"
SID = "HX0123456789abcdef0123456789abcdef"


def _post(client, **fields):
    data = {"title": "Hi", "language": "en", "body": "Hello", "position": 0, "is_active": "on"}
    data.update(fields, nonce=NONCE)
    return client.post(reverse("inbox:quick-reply-add"), data)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("body", "Hi {firstname}, room {room}", "Unknown placeholder {firstname}"),
        ("body", "Hi {first_name", "without its pair"),
        ("body", "Hi first_name}", "without its pair"),
        ("body", "Hi\x0bthere", "cannot be sent (U+000B)"),
        ("body", "x" * 5000, "A Viber message is at most 1000 characters; this one has 5000."),
        ("whatsapp_template_id", "not a sid", "not a WhatsApp template's content SID"),
        ("whatsapp_template_id", "HX123", "not a WhatsApp template's content SID"),
    ],
)
def test_the_screen_refuses_a_bad_quick_reply_on_its_field(client, login, field, value, says):
    login("Front desk")

    page = _post(client, **{field: value})

    assert page.status_code == 200
    assert not QuickReply.objects.exists()
    assert any(says in error for error in page.context["form"].errors[field])


def test_the_refusal_speaks_the_staff_language(client, login) -> None:
    login("Front desk")
    client.post(reverse("set_language"), {"language": "tr", "next": "/"})

    page = _post(client, body="Merhaba {firstname", whatsapp_template_id="not a sid")

    errors = page.context["form"].errors
    assert "Eşi olmayan" in errors["body"][0]
    assert "içerik SID" in errors["whatsapp_template_id"][0]
    assert not QuickReply.objects.exists()


def test_a_good_quick_reply_is_saved(client, login) -> None:
    login("Front desk")
    body = " ".join(f"{{{name}}}" for name in PLACEHOLDERS) + "\n\tThanks"

    page = _post(client, body=body, whatsapp_template_id=SID)

    assert page.status_code == 302
    assert QuickReply.objects.get().body == body


def test_the_service_refuses_too(staff) -> None:
    with pytest.raises(ValidationError) as refused:
        quick_reply_save(
            quick_reply=QuickReply(title="x", language="en", body="Hi {room"),
            user=staff("Front desk"),
        )
    assert "body" in refused.value.message_dict
    assert not QuickReply.objects.exists()


def test_every_placeholder_the_check_allows_is_filled(guest, receive) -> None:
    receive(guest.phone, "Hi")
    reply = QuickReply(
        title="All", language="en", body="|".join(f"{{{name}}}" for name in PLACEHOLDERS)
    )

    text = quick_reply_text(reply, Conversation.objects.get())

    assert "{" not in text and text.count("|") == len(PLACEHOLDERS) - 1


@pytest.fixture
def stored_bad(guest, receive):
    """A quick reply saved before the checks existed (create skips them)."""
    receive(guest.phone, "Hi")
    return QuickReply.objects.create(title="Old", language="tr", body="Hi {firstname}")


def test_a_stored_bad_quick_reply_is_refused_when_sent(stored_bad, staff, top_up) -> None:
    top_up(100)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        conversation_reply(
            conversation=Conversation.objects.get(),
            user=staff("Front desk"),
            nonce=NONCE,
            quick_reply=stored_bad,
        )
    assert "The quick reply “Old” cannot be used" in refused.value.messages[0]
    assert "{firstname}" in refused.value.messages[0]
    assert not OutboundMessage.objects.filter(source="inbox").exists()


def test_a_stored_bad_quick_reply_does_not_fill_the_box(client, login, stored_bad) -> None:
    login("Front desk")
    conversation = Conversation.objects.get()

    box = client.get(
        reverse("inbox:reply-box", args=[conversation.pk]), {"quick_reply": stored_bad.pk}
    )

    html = box.content.decode()
    assert "cannot be used" in html and "Unknown placeholder" in html
    assert "Hi {firstname}" not in html
    assert not box.context["reply_form"].initial.get("quick_reply")


def test_a_stored_bad_template_is_not_used_outside_the_window(
    guest, receive, staff, top_up
) -> None:
    import datetime as dt

    from django.utils import timezone

    top_up(100)
    receive(
        guest.phone, "Thanks", channel="whatsapp", sent_at=timezone.now() - dt.timedelta(hours=25)
    )
    reply = QuickReply.objects.create(
        title="Follow-up", language="tr", body="Merhaba", whatsapp_template_id="not a sid"
    )

    with pytest.raises(ValidationError):
        conversation_reply(
            conversation=Conversation.objects.get(),
            user=staff("Front desk"),
            nonce=NONCE,
            quick_reply=reply,
        )
    assert not OutboundMessage.objects.filter(source="inbox").exists()
