"""A guest's message opens their conversation; staff assign, close, re-open and note (issue 14)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from channels_out.models import InboundMessage
from interfaces.inbox.models import Conversation, ConversationEvent
from interfaces.inbox.selectors import conversation_thread, unread_count
from interfaces.inbox.services import (
    conversation_add_note,
    conversation_assign,
    conversation_close,
    conversation_link_guest,
    conversation_mark_read,
    conversation_reopen,
)
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def test_a_guests_message_opens_one_conversation_across_channels(guest, receive) -> None:
    receive(guest.phone, "Can I check in early?")
    receive(guest.phone, "Is the spa open?", channel="whatsapp")

    [conversation] = Conversation.objects.all()
    assert conversation.guest == guest
    assert conversation.channel == "whatsapp"
    assert conversation.preview == "Is the spa open?"
    assert conversation.is_open
    assert conversation.last_whatsapp_at is not None
    assert [e.kind for e in conversation.events.all()] == ["opened"]


def test_an_unknown_sender_gets_a_conversation_of_their_own(guest, receive) -> None:
    receive("+447700900123", "Hello, do you have a room tonight?")
    receive("+447700900123", "For two people")

    [conversation] = Conversation.objects.all()
    assert conversation.guest is None
    assert conversation.address == "+447700900123"
    bodies = [i.obj.body for i in conversation_thread(conversation) if i.kind == "in"]
    assert bodies == ["Hello, do you have a room tonight?", "For two people"]


def test_a_closed_conversation_reopens_when_the_guest_writes_again(guest, receive, staff) -> None:
    receive(guest.phone, "Thanks!")
    conversation = Conversation.objects.get()
    conversation_close(conversation=conversation, user=staff("Front desk"))
    assert Conversation.objects.get().status == "closed"

    receive(guest.phone, "One more question")

    conversation.refresh_from_db()
    assert conversation.is_open
    assert conversation.closed_at is None
    kinds = [e.kind for e in conversation.events.all()]
    assert kinds == ["opened", "closed", "reopened"]


def test_the_same_webhook_twice_is_one_message(guest, receive) -> None:
    receive(guest.phone, "Hi", provider_message_id="SM1")
    assert receive(guest.phone, "Hi", provider_message_id="SM1") is None

    assert InboundMessage.objects.count() == 1
    conversation = Conversation.objects.get()
    assert [i.kind for i in conversation_thread(conversation) if i.kind == "in"] == ["in"]


def test_a_late_message_takes_its_place_by_the_providers_time(guest, receive) -> None:
    now = timezone.now()
    receive(guest.phone, "second", sent_at=now - dt.timedelta(minutes=1))
    receive(guest.phone, "first", sent_at=now - dt.timedelta(minutes=5))

    conversation = Conversation.objects.get()
    assert conversation.preview == "second"
    bodies = [i.obj.body for i in conversation_thread(conversation) if i.kind == "in"]
    assert bodies == ["first", "second"]


def test_stop_and_start_are_system_lines_and_open_nothing(guest, receive) -> None:
    receive(guest.phone, "STOP")
    assert not Conversation.objects.exists()

    receive(guest.phone, "When is breakfast?")
    receive(guest.phone, "start")
    conversation = Conversation.objects.get()
    kinds = [i.kind for i in conversation_thread(conversation) if i.kind in ("in", "keyword")]
    assert kinds == ["keyword", "in", "keyword"]
    assert conversation.preview == "When is breakfast?"


def test_unread_counts_until_a_member_of_staff_reads(guest, receive, staff) -> None:
    desk, manager = staff("Front desk"), staff("Manager")
    receive(guest.phone, "Hello")
    assert unread_count(user=desk) == 1

    conversation_mark_read(conversation=Conversation.objects.get(), user=desk)

    assert unread_count(user=desk) == 0
    assert unread_count(user=manager) == 1
    receive(guest.phone, "Are you there?")
    assert unread_count(user=desk) == 1


def test_staff_actions_leave_events_and_audit_rows(guest, receive, staff) -> None:
    desk, colleague = staff("Front desk"), staff("Front desk", "zeynep")
    receive(guest.phone, "Hello")
    conversation = Conversation.objects.get()

    conversation_assign(conversation=conversation, assignee=colleague, user=desk)
    conversation_close(conversation=conversation, user=desk)
    conversation_reopen(conversation=conversation, user=desk)
    note = conversation_add_note(conversation=conversation, body="VIP, be quick", user=desk)

    assert note.author == desk
    events = list(conversation.events.exclude(kind="opened"))
    assert [(e.kind, e.by) for e in events] == [
        ("assigned", desk),
        ("closed", desk),
        ("reopened", desk),
    ]
    assert LogEntry.objects.filter(user=desk, object_id=str(conversation.pk)).count() == 3


def test_a_conversation_cannot_go_to_someone_who_may_not_answer(guest, receive, staff) -> None:
    from django.core.exceptions import ValidationError

    receive(guest.phone, "Hello")
    with pytest.raises(ValidationError):
        conversation_assign(
            conversation=Conversation.objects.get(),
            assignee=staff("Marketing"),
            user=staff("Manager"),
        )
    assert Conversation.objects.get().assigned_to is None


def test_linking_an_unknown_sender_to_a_guest_merges_their_conversations(
    guest, receive, staff
) -> None:
    desk = staff("Front desk")
    receive(guest.phone, "From my own phone")
    receive("+447700900123", "From my husband's phone")
    unknown = Conversation.objects.get(guest__isnull=True)
    conversation_add_note(conversation=unknown, body="Says she is Ayşe", user=desk)

    merged = conversation_link_guest(conversation=unknown, guest=guest, user=desk)

    assert Conversation.objects.count() == 1
    assert merged.guest == guest
    assert merged.address == "+447700900123"  # the newest message's number: answers go there
    assert InboundMessage.objects.filter(guest=guest).count() == 2
    assert merged.notes.get().body == "Says she is Ayşe"
    assert merged.events.filter(kind=ConversationEvent.Kind.LINKED).exists()


def test_linking_a_sender_of_a_guest_without_a_conversation_keeps_it(receive, staff) -> None:
    receive("+447700900123", "Hello")
    other = GuestFactory()
    conversation = conversation_link_guest(
        conversation=Conversation.objects.get(), guest=other, user=staff("Front desk")
    )
    assert conversation.guest == other
    assert [i.obj.guest for i in conversation_thread(conversation) if i.kind == "in"] == [other]


def test_merging_two_guests_with_conversations_keeps_one(guest, receive, staff) -> None:
    from guests.services import guest_merge

    desk = staff("Front desk")
    duplicate = GuestFactory(first_name="Ayse", last_name="Yilmaz")
    receive(guest.phone, "From the profile that stays")
    receive(duplicate.phone, "From the duplicate")
    conversation_add_note(
        conversation=Conversation.objects.get(guest=duplicate), body="Wants a crib", user=desk
    )

    guest_merge(source=duplicate, target=guest, user=desk)

    [conversation] = Conversation.objects.all()
    assert conversation.guest == guest
    assert conversation.notes.get().body == "Wants a crib"
    bodies = {i.obj.body for i in conversation_thread(conversation) if i.kind == "in"}
    assert bodies == {"From the profile that stays", "From the duplicate"}
