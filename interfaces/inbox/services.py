"""Every write of the inbox, with its audit row: conversations opened by guests' messages,
assigned, closed, re-opened, noted, read, linked to a guest, and answered.

Answers go through ``channels_out.services.message_send`` — its counter, consent rules, cost
and dedupe key — on the channel and account the guest last used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from channels_out import policy
from channels_out.models import InboundMessage, OutboundMessage
from channels_out.services import Step, inbound_link_guest, message_send
from crm_messaging.actors import Actor, acting_user, record_staff_action
from guests.models import ConsentPurpose, ContactChannel, Guest, Hotel, Reservation

from . import quick_text
from .models import (
    Conversation,
    ConversationEvent,
    ConversationNote,
    ConversationRead,
    QuickReply,
)

PREVIEW_CHARS = 200
MAX_NOTE_CHARS = 5000


def _event(conversation: Conversation, kind: str, *, user: Actor = None, detail: str = "") -> None:
    ConversationEvent.objects.create(
        conversation=conversation, kind=kind, by=acting_user(user), detail=detail[:255]
    )


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


# --- guests' messages ---------------------------------------------------------------------------


@transaction.atomic
def conversation_record_inbound(*, message: InboundMessage) -> Conversation | None:
    """Bring a guest's message into their conversation: open one (the guest's, or the unknown
    sender's by address), re-open a closed one, move its activity and unread mark.

    A STOP/START keyword is shown in the thread but opens nothing. Messages are ordered by
    the provider's time, so one that arrives late never moves the conversation backwards.
    """
    lookup: dict[str, Any] = (
        {"guest": message.guest}
        if message.guest_id
        else {"guest__isnull": True, "address": message.from_number}
    )
    conversation = Conversation.objects.select_for_update().filter(**lookup).first()
    if conversation is None and message.keyword:
        return None
    if conversation is None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    guest=message.guest,
                    address=message.from_number,
                    channel=message.channel,
                    account=message.account,
                    last_activity_at=message.sent_at,
                    created_at=message.received_at,
                )
        except IntegrityError:  # another worker opened it meanwhile
            conversation = Conversation.objects.select_for_update().get(**lookup)
        else:
            _event(
                conversation, ConversationEvent.Kind.OPENED, detail=message.get_channel_display()
            )
    if message.keyword:
        return conversation
    latest = conversation.last_inbound_at is None or message.sent_at >= conversation.last_inbound_at
    if latest:
        conversation.last_inbound_at = message.sent_at
        conversation.address, conversation.channel = message.from_number, message.channel
        conversation.account = message.account
        conversation.preview = (message.body or message.subject)[:PREVIEW_CHARS]
    conversation.last_activity_at = max(conversation.last_activity_at, message.sent_at)
    if message.channel == ContactChannel.WHATSAPP and (
        conversation.last_whatsapp_at is None or message.sent_at > conversation.last_whatsapp_at
    ):
        conversation.last_whatsapp_at = message.sent_at
    if not conversation.is_open:
        conversation.status, conversation.closed_at = Conversation.Status.OPEN, None
        _event(conversation, ConversationEvent.Kind.REOPENED, detail=_("the guest wrote again"))
    conversation.save()
    return conversation


# --- staff actions ------------------------------------------------------------------------------


@transaction.atomic
def conversation_assign(
    *, conversation: Conversation, assignee: Any | None, user: Actor
) -> Conversation:
    """Give the conversation to ``assignee`` (a member of staff who may answer), or to nobody."""
    conversation = _locked(conversation)
    if assignee is not None and not (
        assignee.is_active and assignee.has_perm("inbox.reply_conversation")
    ):
        raise ValidationError(
            {"assignee": _("%(name)s cannot answer conversations.") % {"name": assignee}}
        )
    if conversation.assigned_to_id == (assignee.pk if assignee else None):
        return conversation
    conversation.assigned_to = assignee
    conversation.save(update_fields=["assigned_to"])
    name = (assignee.get_full_name() or assignee.get_username()) if assignee else ""
    if assignee is None:
        _event(conversation, ConversationEvent.Kind.UNASSIGNED, user=user)
    else:
        _event(conversation, ConversationEvent.Kind.ASSIGNED, user=user, detail=name)
    record_staff_action(user, conversation, f"Assigned to {name}" if name else "Unassigned")
    return conversation


@transaction.atomic
def conversation_close(*, conversation: Conversation, user: Actor) -> Conversation:
    """Close the conversation (the guest's next message re-opens it)."""
    conversation = _locked(conversation)
    if conversation.is_open:
        conversation.status, conversation.closed_at = Conversation.Status.CLOSED, timezone.now()
        conversation.save(update_fields=["status", "closed_at"])
        _event(conversation, ConversationEvent.Kind.CLOSED, user=user)
        record_staff_action(user, conversation, "Closed")
    return conversation


@transaction.atomic
def conversation_reopen(*, conversation: Conversation, user: Actor) -> Conversation:
    """Open a closed conversation again."""
    conversation = _locked(conversation)
    if not conversation.is_open:
        conversation.status, conversation.closed_at = Conversation.Status.OPEN, None
        conversation.save(update_fields=["status", "closed_at"])
        _event(conversation, ConversationEvent.Kind.REOPENED, user=user)
        record_staff_action(user, conversation, "Re-opened")
    return conversation


@transaction.atomic
def conversation_add_note(
    *, conversation: Conversation, body: str, user: Actor
) -> ConversationNote:
    """Keep an internal note on the conversation; it is never sent to the guest."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write the note.")})
    if len(body) > MAX_NOTE_CHARS:
        raise ValidationError(
            {"body": _("A note is at most %(limit)s characters.") % {"limit": MAX_NOTE_CHARS}}
        )
    return ConversationNote.objects.create(
        conversation=conversation, author=acting_user(user), body=body
    )


def conversation_mark_read(
    *, conversation: Conversation, user: Actor, at: dt.datetime | None = None
) -> bool:
    """Remember that ``user`` has read the guest's messages up to ``at`` — the newest one he
    was shown (default: the newest there is); return whether the marker moved.

    Only a guest's message is ever unread, so the marker goes no further than the newest:
    a thread polled again with nothing new, or a second tab, writes nothing; a message that
    came in after the page was drawn stays unread. Never backwards.
    """
    author = acting_user(user)
    newest = conversation.last_inbound_at
    if author is None or newest is None:
        return False  # nobody to remember it for, or nothing from the guest to read
    at = min(at, newest) if at is not None else newest
    marker, created = ConversationRead.objects.get_or_create(
        conversation=conversation, user=author, defaults={"read_at": at}
    )
    if created:
        return True
    if marker.read_at >= at:
        return False
    return bool(ConversationRead.objects.filter(pk=marker.pk, read_at__lt=at).update(read_at=at))


@transaction.atomic
def conversation_link_guest(
    *, conversation: Conversation, guest: Guest, user: Actor
) -> Conversation:
    """Make an unknown sender's conversation the guest's: their messages become the guest's,
    and if the guest already has a conversation, this one is merged into it (notes, events
    and read markers move; the earlier one survives). Returns the guest's conversation."""
    conversation = _locked(conversation)
    if conversation.guest_id is not None:
        raise ValidationError(_("This conversation already belongs to a guest."))
    inbound_link_guest(sender=conversation.address, guest=guest, user=user)
    existing = Conversation.objects.select_for_update().filter(guest=guest).first()
    detail = guest.full_name
    if existing is None:
        conversation.guest = guest
        conversation.save(update_fields=["guest"])
        target = conversation
    else:
        target = _absorb(existing, conversation)
    _event(target, ConversationEvent.Kind.LINKED, user=user, detail=detail)
    record_staff_action(user, target, f"Linked the sender {target.address} to {detail}")
    return target


def _absorb(target: Conversation, other: Conversation) -> Conversation:
    """Fold ``other`` into ``target`` (notes and events move, the newer activity wins, open
    stays open) and delete ``other``; return ``target``."""
    ConversationNote.objects.filter(conversation=other).update(conversation=target)
    ConversationEvent.objects.filter(conversation=other).update(conversation=target)
    ConversationRead.objects.filter(conversation=other).delete()
    if (other.last_inbound_at or other.created_at) > (target.last_inbound_at or target.created_at):
        target.address, target.channel = other.address, other.channel
        target.account_id, target.preview = other.account_id, other.preview
        target.last_inbound_at = other.last_inbound_at
    target.last_activity_at = max(target.last_activity_at, other.last_activity_at)
    if other.last_whatsapp_at and (
        target.last_whatsapp_at is None or other.last_whatsapp_at > target.last_whatsapp_at
    ):
        target.last_whatsapp_at = other.last_whatsapp_at
    if other.is_open:
        target.status, target.closed_at = Conversation.Status.OPEN, None
    other.delete()
    target.save()
    return target


@transaction.atomic
def conversations_merge_guests(*, source: Guest, target: Guest) -> None:
    """Before ``source`` is merged into ``target``: combine their conversations into one
    (``target``'s), so the merge moves no second conversation onto the guest."""
    rows = {
        c.guest_id: c
        for c in Conversation.objects.select_for_update().filter(guest__in=[source, target])
    }
    if source.pk in rows and target.pk in rows:
        _absorb(rows[target.pk], rows[source.pk])


# --- answers ------------------------------------------------------------------------------------


def whatsapp_window_ends(conversation: Conversation) -> dt.datetime | None:
    """When free text to the guest on WhatsApp stops being allowed (None: never opened)."""
    if conversation.last_whatsapp_at is None:
        return None
    return conversation.last_whatsapp_at + policy.WHATSAPP_WINDOW


def current_stay(guest: Guest | None) -> Reservation | None:
    """The guest's stay a conversation is about: in house, else the next, else the last one."""
    if guest is None:
        return None
    stays = Reservation.objects.filter(booker=guest).select_related("room_type")
    active = (Reservation.Status.CHECKED_IN, Reservation.Status.CONFIRMED)
    today = timezone.localdate()
    return (
        stays.filter(status=Reservation.Status.CHECKED_IN).order_by("-arrival").first()
        or stays.filter(status__in=active, departure__gte=today).order_by("arrival").first()
        or stays.order_by("-arrival").first()
    )


def quick_reply_text(quick_reply: QuickReply, conversation: Conversation) -> str:
    """The quick reply's text with its placeholders filled in for the conversation's guest.

    Raises ValidationError({"text": …}) for a quick reply that cannot go as staff see it (one
    saved before the checks of ``quick_text`` existed): it is refused, never sent literally.
    """
    found = quick_text.errors(quick_reply.body, quick_reply.whatsapp_template_id)
    if found:
        raise ValidationError(
            {
                "text": _(
                    "The quick reply “%(title)s” cannot be used: %(problem)s Correct it under "
                    "Inbox → Quick replies."
                )
                % {"title": quick_reply.title, "problem": " ".join(found.values())}
            }
        )
    guest = conversation.guest
    stay = current_stay(guest)
    values = {
        "first_name": guest.first_name if guest else "",
        "last_name": guest.last_name if guest else "",
        "room": stay.room_number if stay else "",
        "arrival": formats.date_format(stay.arrival, "SHORT_DATE_FORMAT") if stay else "",
        "departure": formats.date_format(stay.departure, "SHORT_DATE_FORMAT") if stay else "",
        "hotel": Hotel.load().name,
    }
    return quick_text.fill(quick_reply.body, values)


@transaction.atomic
def conversation_reply(
    *,
    conversation: Conversation,
    user: Actor,
    nonce: str,
    text: str = "",
    quick_reply: QuickReply | None = None,
) -> OutboundMessage:
    """Answer the guest on the channel and account they last wrote on, through ``message_send``
    (its consent rules, cost and credits). The same ``nonce`` sends once (a double click).

    Raises ValidationError, sending nothing, for an empty answer or free text on WhatsApp
    outside the 24-hour window (only a quick reply with an approved template may go then),
    and for whatever ``message_send`` refuses.
    """
    conversation = _locked(conversation)
    key = f"inbox:{conversation.pk}:{nonce}"
    earlier = OutboundMessage.objects.filter(dedupe_key=key).first()
    if earlier is not None:
        return earlier
    template_id = ""
    if quick_reply is not None:
        # Typed (or edited) text goes as written; outside the WhatsApp window only the
        # approved template's own wording may go (below).
        text = text.strip() or quick_reply_text(quick_reply, conversation)
        template_id = quick_reply.whatsapp_template_id
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the answer.")})
    channel = conversation.channel
    variables: dict[str, str] = {}
    if channel == ContactChannel.WHATSAPP:
        if policy.whatsapp_windows_open([conversation.address]):
            template_id = ""  # inside the window the text itself goes
        elif not template_id:
            ends = whatsapp_window_ends(conversation)
            raise ValidationError(
                {
                    "text": _(
                        "The guest's last WhatsApp message was more than 24 hours ago "
                        "(the window closed %(when)s): WhatsApp allows only an approved "
                        "template now. Choose a quick reply marked “template”."
                    )
                    % {
                        "when": formats.date_format(timezone.localtime(ends), "j M H:i")
                        if ends
                        else "—"
                    }
                }
            )
        else:
            assert quick_reply is not None
            text = quick_reply_text(quick_reply, conversation)
            variables = {"1": text}
    subject, headers = "", dict[str, str]()
    if channel == ContactChannel.EMAIL:
        subject, headers = _email_reply_fields(conversation)
    message = message_send(
        steps=Step(
            channel=channel,
            account=conversation.account,
            text=text,
            subject=subject,
            to=conversation.address,
            template_id=template_id,
            template_variables=variables,
        ),
        purpose=ConsentPurpose.SERVICE,
        guest=conversation.guest,
        reservation=current_stay(conversation.guest),
        dedupe_key=key,
        source="inbox",
        language=conversation.guest.language if conversation.guest else "",
        user=user,
        headers=headers,
    )
    conversation.last_activity_at = max(conversation.last_activity_at, message.created_at)
    conversation.preview = text[:PREVIEW_CHARS]
    conversation.save(update_fields=["last_activity_at", "preview"])
    author = acting_user(user)
    if conversation.assigned_to_id is None and author is not None:
        conversation_assign(conversation=conversation, assignee=author, user=user)
    conversation_mark_read(conversation=conversation, user=user)
    return message


def _email_reply_fields(conversation: Conversation) -> tuple[str, dict[str, str]]:
    """Subject and threading headers of an e-mail answer to the guest's last e-mail."""
    last = (
        InboundMessage.objects.filter(
            channel=ContactChannel.EMAIL, from_number=conversation.address
        )
        .only("subject", "provider_message_id")
        .order_by("-sent_at", "-pk")
        .first()
    )
    if last is None:
        return Hotel.load().name, {}
    subject = last.subject or Hotel.load().name
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    subject = " ".join(subject.split())[:255]
    message_id = last.provider_message_id
    if not (message_id.startswith("<") and message_id.endswith(">")):
        return subject, {}
    return subject, {"In-Reply-To": message_id, "References": message_id}


# --- quick replies ------------------------------------------------------------------------------


@transaction.atomic
def quick_reply_save(
    *, quick_reply: QuickReply, user: Actor, changed: list[str] | None = None
) -> QuickReply:
    """Save a quick reply (new or changed) and keep who did it."""
    added = quick_reply.pk is None
    quick_reply.full_clean()
    quick_reply.save()
    record_staff_action(
        user,
        quick_reply,
        "Added" if added else [{"changed": {"fields": changed or []}}],
        added=added,
    )
    return quick_reply
