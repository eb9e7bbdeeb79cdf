"""Numbers in query strings and forms are read by one rule (``crm_messaging.numbers``): ASCII
digits, at most 18. "²" passes ``str.isdigit`` but not ``int``; "٣" is read by ``int`` as 3;
a 30-digit id overflows the database's bigint. None of them may cost a 500; each screen
answers as it does for a word."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from crm_messaging.numbers import whole_number
from interfaces.inbox.models import Conversation, QuickReply
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db

UNTRUSTED = ["\u00b2", "\u0663", "9" * 30, "abc"]


@pytest.mark.parametrize(
    ("text", "number"),
    [("0", 0), ("42", 42), ("9" * 18, 10**18 - 1), ("\u00b2", None), ("\u0663", None)]
    + [("9" * 19, None), ("", None), ("-1", None), (" 4", None), ("4.0", None), (None, None)],
)
def test_whole_number_reads_ascii_digits_only_and_within_a_bigint(text, number) -> None:
    assert whole_number(text) == number


@pytest.fixture
def world(admin_client, accounts) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    guest = GuestFactory(phone="+905321234567")
    stay = ReservationFactory(booker=guest)
    conversation = Conversation.objects.create(guest=guest, channel="sms", address=guest.phone)
    QuickReply.objects.create(title="Towels", body="Right away", language="en")
    return {"guest": guest, "stay": stay, "conversation": conversation}


def requests(world: dict[str, Any]) -> dict[str, Callable[[Any, str], Any]]:
    guest, stay, conversation = world["guest"], world["stay"], world["conversation"]
    return {
        "inbox search": lambda c, x: c.get(reverse("inbox:list"), {"q": x}),
        "quick reply": lambda c, x: c.get(
            reverse("inbox:conversation", args=[conversation.pk]), {"quick_reply": x}
        ),
        "reply box": lambda c, x: c.get(
            reverse("inbox:reply-box", args=[conversation.pk]), {"quick_reply": x}
        ),
        "send log": lambda c, x: c.get(reverse("channels_out:message-list"), {"guest": x}),
        "send log csv": lambda c, x: c.get(reverse("channels_out:message-export"), {"guest": x}),
        "send log rows": lambda c, x: c.get(reverse("channels_out:message-rows"), {"ids": x}),
        "guest more": lambda c, x: c.get(
            reverse("guests:guest-detail", args=[guest.pk]), {"more": x}
        ),
        "guest history": lambda c, x: c.get(
            reverse("guests:guest-history", args=[guest.pk]), {"more": x}
        ),
        "stay messages": lambda c, x: c.get(
            reverse("guests:reservation-messages", args=[stay.pk]), {"more": x}
        ),
        "meter guest": lambda c, x: c.post(reverse("channels_out:meter"), {"guest": x}),
        "meter account": lambda c, x: c.post(reverse("channels_out:meter"), {"account": x}),
        "new stay for": lambda c, x: c.get(reverse("guests:reservation-create"), {"guest": x}),
    }


@pytest.mark.parametrize("text", UNTRUSTED, ids=["superscript", "arabic-indic", "huge", "word"])
def test_no_screen_answers_an_odd_number_with_a_500(admin_client, world, text: str) -> None:
    for name, request in requests(world).items():
        answer = request(admin_client, text)
        word = request(admin_client, "abc")
        assert answer.status_code < 500, name
        assert answer.status_code == word.status_code, name  # treated as a word is
