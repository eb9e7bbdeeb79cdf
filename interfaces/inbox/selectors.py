"""Reads of the inbox: the tabs, the unread count, one conversation's thread and stay card.

The list and the count are one query each whatever the number of conversations; the thread
is a fixed handful (messages in, messages out, notes, events).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
)

from channels_out.models import InboundMessage, OutboundMessage
from channels_out.selectors import with_credits
from crm_messaging.numbers import whole_number
from guests.models import Guest, Reservation

from .models import (
    Conversation,
    ConversationEvent,
    ConversationNote,
    ConversationRead,
    QuickReply,
)

TABS = ("open", "mine", "unassigned", "closed")
THREAD_LIMIT = 200


def _unread(user: Any) -> ExpressionWrapper:
    read = ConversationRead.objects.filter(
        conversation=OuterRef("pk"), user=user, read_at__gte=OuterRef("last_inbound_at")
    )
    return ExpressionWrapper(
        Q(last_inbound_at__isnull=False) & ~Exists(read), output_field=BooleanField()
    )


def conversation_list(*, user: Any, tab: str = "open", q: str = "") -> QuerySet[Conversation]:
    """Conversations of a tab (open, mine, unassigned, closed), newest activity first, each
    with ``unread`` for ``user``; ``q`` finds a guest's name, number or e-mail, a room, a
    reservation number or booking reference, or a word of the guest's messages."""
    rows = Conversation.objects.select_related("guest", "assigned_to").annotate(
        unread=_unread(user)
    )
    if tab == "closed":
        rows = rows.filter(status=Conversation.Status.CLOSED)
    else:
        rows = rows.filter(status=Conversation.Status.OPEN)
        if tab == "mine":
            rows = rows.filter(assigned_to=user)
        elif tab == "unassigned":
            rows = rows.filter(assigned_to__isnull=True)
    q = q.strip()
    if q:
        rows = rows.filter(_search(q))
    return rows.order_by("-last_activity_at", "-pk")


def _search(q: str) -> Q:
    """Each part is an uncorrelated ``IN (subquery)`` that PostgreSQL hashes once, so a search
    reads each table once however many conversations there are."""
    words = Q()
    for word in q.split()[:5]:
        words &= (
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    stays = Q(room_number__iexact=q) | Q(external_ref__iexact=q)
    number = q.lstrip("#")
    number = number[1:] if number[:1] in ("R", "r") else number  # R0000123, as staff quote it
    if (stay_id := whole_number(number)) is not None:
        stays |= Q(pk=stay_id)
    said = InboundMessage.objects.filter(body__icontains=q)
    digits = "".join(ch for ch in q if ch in "0123456789")
    phone = Q(address__contains=digits) if len(digits) >= 4 else Q(pk__in=[])
    address = Q(address__icontains=q) if "@" in q else Q(pk__in=[])
    return (
        Q(guest__in=Guest.objects.filter(words).values("pk"))
        | Q(guest__in=Reservation.objects.filter(stays).values("booker_id"))
        | Q(guest__in=said.filter(guest__isnull=False).values("guest_id"))
        | Q(guest__isnull=True, address__in=said.filter(guest__isnull=True).values("from_number"))
        | address
        | phone
    )


def conversation_unread_upto(conversation: Conversation, *, user: Any) -> dt.datetime | None:
    """When the newest guest message ``user`` has not read came in, or None when he has read
    them all (the same rule as the list's and the badge's *unread*)."""
    unread = (
        Conversation.objects.filter(pk=conversation.pk)
        .annotate(unread=_unread(user))
        .values_list("unread", flat=True)
        .first()
    )
    return conversation.last_inbound_at if unread else None


def unread_count(*, user: Any) -> int:
    """Open conversations with a guest's message ``user`` has not read."""
    read = ConversationRead.objects.filter(
        conversation=OuterRef("pk"), user=user, read_at__gte=OuterRef("last_inbound_at")
    )
    return (
        Conversation.objects.filter(status=Conversation.Status.OPEN, last_inbound_at__isnull=False)
        .exclude(Exists(read))
        .count()
    )


@dataclass(frozen=True)
class ThreadItem:
    """One line of a conversation: a message in or out, a note, or a system line."""

    kind: str  # "in", "out", "note", "event", "keyword"
    at: dt.datetime
    obj: Any


def conversation_thread(conversation: Conversation) -> list[ThreadItem]:
    """The conversation's lines in time order (guests' messages by the provider's time):
    the guest's messages, every message we sent them (campaigns included, with what each cost
    or holds as the send log counts it), notes and events."""
    if conversation.guest_id:
        inbound = InboundMessage.objects.filter(guest_id=conversation.guest_id)
        outbound = OutboundMessage.objects.filter(guest_id=conversation.guest_id)
    else:
        inbound = InboundMessage.objects.filter(
            guest__isnull=True, from_number=conversation.address
        )
        outbound = OutboundMessage.objects.filter(guest__isnull=True, to=conversation.address)
    items: list[ThreadItem] = []
    for message in inbound.order_by("-sent_at", "-pk")[:THREAD_LIMIT]:
        items.append(ThreadItem("keyword" if message.keyword else "in", message.sent_at, message))
    for sent in (
        with_credits(outbound)
        .select_related("sent_by")
        .defer("html_body", "sealed", "fallback_plan", "headers", "template_variables")
        .order_by("-created_at", "-pk")[:THREAD_LIMIT]
    ):
        items.append(ThreadItem("out", sent.created_at, sent))
    for note in ConversationNote.objects.filter(conversation=conversation).select_related("author"):
        items.append(ThreadItem("note", note.created_at, note))
    for event in ConversationEvent.objects.filter(conversation=conversation).select_related("by"):
        items.append(ThreadItem("event", event.at, event))
    items.sort(key=lambda item: item.at)
    return items


def guest_candidates(q: str) -> QuerySet[Guest]:
    """Guests an unknown sender may be: by name, number or e-mail (at most 10)."""
    q = q.strip()
    if len(q) < 2:
        return Guest.objects.none()
    words = Q()
    for word in q.split()[:4]:
        words &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return Guest.objects.filter(
        words | Q(email__icontains=q) | Q(phone__contains=q.replace(" ", ""))
    ).order_by("last_name", "first_name")[:10]


def staff_who_answer() -> list[Any]:
    """The active members of staff a conversation may be assigned to (who may answer), in one
    query: superusers, and those given the permission directly or through a group."""
    may = Q(is_superuser=True) | Q(
        user_permissions__codename="reply_conversation",
        user_permissions__content_type__app_label="inbox",
    )
    may |= Q(
        groups__permissions__codename="reply_conversation",
        groups__permissions__content_type__app_label="inbox",
    )
    return list(
        get_user_model()
        .objects.filter(may, is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )


def quick_replies_for(conversation: Conversation) -> list[QuickReply]:
    """The quick replies in the guest's language (in the hotel's default language when there
    are none in theirs, or the guest is unknown)."""
    default = settings.HOTEL_DEFAULT_LANGUAGE
    wanted = conversation.guest.language if conversation.guest else default
    replies = list(
        QuickReply.objects.filter(is_active=True, language__in={wanted, default}).order_by(
            "position", "title"
        )
    )
    own = [reply for reply in replies if reply.language == wanted]
    return own or [reply for reply in replies if reply.language == default]
