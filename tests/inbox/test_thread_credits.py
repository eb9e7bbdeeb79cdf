"""The conversation shows what each message cost as the send log counts it: a skipped answer
nothing, a queued one the credits it holds (not its price as if spent)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from channels_out.models import OutboundMessage, SkipReason, Status
from channels_out.selectors import with_credits
from interfaces.inbox.models import Conversation
from interfaces.inbox.services import conversation_reply

pytestmark = pytest.mark.django_db


def bubbles(client, conversation: Conversation) -> list[str]:  # type: ignore[no-untyped-def]
    page = client.get(reverse("inbox:conversation", args=[conversation.pk]), {"part": "thread"})
    assert page.status_code == 200
    return re.findall(
        r'<div class="bubble out" data-kind="out">.*?</div>\s*</div>', page.content.decode(), re.S
    )


def test_a_skipped_answer_costs_nothing_and_a_queued_one_shows_what_it_holds(
    client, login, guest, receive, top_up
) -> None:
    desk = login("Front desk")
    top_up(1)
    receive(guest.phone, "Hello")
    conversation = Conversation.objects.get()
    queued = conversation_reply(
        conversation=conversation, user=desk, nonce="a" * 32, text="Hi, welcome!"
    )
    skipped = conversation_reply(
        conversation=conversation, user=desk, nonce="b" * 32, text="Longer answer " * 40
    )
    assert queued.status == Status.QUEUED
    assert (skipped.status, skipped.skip_reason) == (Status.SKIPPED, SkipReason.NO_CREDITS)
    assert skipped.credits > 0  # priced, never charged

    logged = {m.pk: m for m in with_credits(OutboundMessage.objects.all())}
    first, second = bubbles(client, conversation)
    assert logged[skipped.pk].credits_spent == 0 and logged[skipped.pk].credits_held == 0
    assert "No credits" in second  # its status says why
    assert not re.search(r"[0-9.]+ credits?", second)  # and no cost: the send log says 0
    held = logged[queued.pk].credits_held
    assert held == queued.credits > 0
    assert f"{held.normalize():f} credit" in first and "held" in first
