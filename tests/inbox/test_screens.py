"""The inbox screens (issue 14): who sees them, the tabs, search, the badge, one conversation."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape as html_unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_out.models import OutboundMessage
from channels_out.services import Step, message_send
from guests.models import ConsentPurpose
from guests.services import guest_record_consent
from interfaces.inbox.models import Conversation, ConversationRead, QuickReply
from interfaces.inbox.selectors import unread_count
from interfaces.inbox.services import conversation_assign, conversation_close
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db
NONCE = "0123456789abcdef0123456789abcdef"


def test_marketing_does_not_see_conversations(client, login, guest, receive) -> None:
    receive(guest.phone, "Hello")
    login("Marketing")
    conversation = Conversation.objects.get()

    assert client.get(reverse("inbox:list")).status_code == 403
    assert client.get(reverse("inbox:conversation", args=[conversation.pk])).status_code == 403
    assert client.post(reverse("inbox:close", args=[conversation.pk])).status_code == 403
    assert client.get(reverse("inbox:badge")).status_code == 204
    assert 'id="inbox-badge"' not in client.get(reverse("staff:home")).content.decode()


def test_front_desk_and_managers_see_the_inbox_in_the_header(client, login) -> None:
    for role in ("Front desk", "Manager"):
        login(role)
        page = client.get(reverse("staff:home")).content.decode()
        assert reverse("inbox:list") in page
        assert 'id="inbox-badge"' in page


def test_the_badge_counts_unread_conversations(client, login, guest, receive) -> None:
    login("Front desk")
    assert client.get(reverse("inbox:badge")).content.strip() == b""
    receive(guest.phone, "Hello")
    receive("+447700900123", "Hi")

    badge = client.get(reverse("inbox:badge")).content.decode()

    assert 'data-unread="2"' in badge
    client.post(reverse("inbox:read", args=[Conversation.objects.get(guest=guest).pk]))
    assert 'data-unread="1"' in client.get(reverse("inbox:badge")).content.decode()


def test_the_tabs_split_open_mine_unassigned_and_closed(
    client, login, staff, guest, receive
) -> None:
    me = login("Front desk")
    other = GuestFactory(first_name="Hans", last_name="Müller")
    third = GuestFactory(first_name="Olga", last_name="Ivanova")
    receive(guest.phone, "Mine")
    receive(other.phone, "Nobody's")
    receive(third.phone, "Done")
    conversation_assign(conversation=Conversation.objects.get(guest=guest), assignee=me, user=me)
    conversation_close(conversation=Conversation.objects.get(guest=third), user=me)

    def names(tab: str) -> list[str]:
        rows = client.get(reverse("inbox:list"), {"tab": tab}).context["conversations"]
        return [c.guest.first_name for c in rows]

    assert names("open") == ["Hans", "Ayşe"]  # newest activity first
    assert names("mine") == ["Ayşe"]
    assert names("unassigned") == ["Hans"]
    assert names("closed") == ["Olga"]


def test_search_finds_guest_room_reservation_and_text(client, login, guest, receive) -> None:
    login("Front desk")
    # A reservation id no phone number here contains: a digit of the search matches phones too.
    stay = ReservationFactory(
        pk=7_654_321, booker=guest, room_number="214", external_ref="BDC-998877"
    )
    other = GuestFactory(first_name="Hans", phone="+491701112233")
    receive(guest.phone, "Is the spa open?")
    receive(other.phone, "Late check-out please")

    def found(q: str) -> list[str]:
        rows = client.get(reverse("inbox:list"), {"q": q}).context["conversations"]
        return [c.guest.first_name for c in rows]

    assert found("Yılmaz") == ["Ayşe"]
    assert found("214") == ["Ayşe"]
    assert found(str(stay.pk)) == ["Ayşe"]
    assert found(stay.number) == ["Ayşe"]
    assert found("BDC-998877") == ["Ayşe"]
    assert found("check-out") == ["Hans"]
    assert found("nothing like this") == []


def test_the_list_costs_the_same_queries_for_3_or_30_conversations(client, login, receive) -> None:
    login("Front desk")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("inbox:list")).status_code == 200
        return len(captured)

    for guest in GuestFactory.create_batch(3):
        receive(guest.phone, "Hello")
    few = queries()
    for guest in GuestFactory.create_batch(27):
        receive(guest.phone, "Hello")
    assert queries() == few


def test_the_conversation_shows_every_message_with_statuses_and_the_stay(
    client, login, guest, receive, accounts, top_up
) -> None:
    top_up(50)
    ReservationFactory(booker=guest, room_number="214", status="checked_in")
    guest.warning_note = "Pays on departure only"
    guest.save()
    message_send(
        steps=Step(channel="sms", text="Welcome! Your code is 864209"),
        guest=guest,
        source="campaign",
        secrets=["864209"],
    )
    receive(guest.phone, "Thanks, can I get towels?")
    receive(guest.phone, "STOP")
    login("Front desk")

    page = client.get(reverse("inbox:conversation", args=[Conversation.objects.get().pk]))
    html = page.content.decode()

    assert "Thanks, can I get towels?" in html
    assert "Welcome! Your code is" in html and "864209" not in html  # masked as in the log
    assert "Queued" in html
    assert "The guest wrote STOP" in html
    assert "214" in html and "Pays on departure only" in html


def test_an_answer_posted_twice_is_one_message(client, login, guest, receive, top_up) -> None:
    top_up(50)
    login("Front desk")
    receive(guest.phone, "Hello")
    url = reverse("inbox:reply", args=[Conversation.objects.get().pk])

    first = client.post(url, {"text": "Hi Ayşe!", "nonce": NONCE})
    second = client.post(url, {"text": "Hi Ayşe!", "nonce": NONCE}, follow=True)

    assert first.status_code == 302
    assert OutboundMessage.objects.filter(source="inbox").count() == 1
    assert "already sent" in second.content.decode()


def test_free_text_outside_the_whatsapp_window_is_refused_on_the_screen(
    client, login, guest, receive, top_up
) -> None:
    top_up(50)
    login("Front desk")
    receive(guest.phone, "Hi", channel="whatsapp", sent_at=timezone.now() - dt.timedelta(days=2))
    conversation = Conversation.objects.get()
    page = client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert "WhatsApp window closed" in page

    answer = client.post(
        reverse("inbox:reply", args=[conversation.pk]), {"text": "Hello", "nonce": NONCE}
    )

    assert answer.status_code == 200
    assert "24 hours" in answer.content.decode()
    assert not OutboundMessage.objects.filter(source="inbox").exists()


def test_the_window_counts_down_inside_it(client, login, guest, receive) -> None:
    login("Front desk")
    receive(guest.phone, "Hi", channel="whatsapp", sent_at=timezone.now() - dt.timedelta(hours=20))
    page = client.get(reverse("inbox:conversation", args=[Conversation.objects.get().pk]))
    assert "WhatsApp window: 3 h" in page.content.decode()


def test_a_quick_reply_fills_the_box_in_the_guests_language(client, login, guest, receive) -> None:
    login("Front desk")
    ReservationFactory(booker=guest, room_number="214", status="checked_in")
    QuickReply.objects.create(title="Wi-Fi", language="tr", body="Oda {room}: şifre LYKIA")
    QuickReply.objects.create(title="Wi-Fi", language="en", body="Room {room}: password LYKIA")
    receive(guest.phone, "Wifi?")
    conversation = Conversation.objects.get()

    page = client.get(reverse("inbox:conversation", args=[conversation.pk]))
    assert [r.language for r in page.context["quick_replies"]] == ["tr"]
    box = client.get(
        reverse("inbox:reply-box", args=[conversation.pk]),
        {"quick_reply": page.context["quick_replies"][0].pk},
    )
    assert "Oda 214: şifre LYKIA" in box.content.decode()


def test_assign_close_reopen_and_notes_are_posts(client, login, staff, guest, receive) -> None:
    me = login("Front desk")
    receive(guest.phone, "Hello")
    conversation = Conversation.objects.get()
    close = reverse("inbox:close", args=[conversation.pk])

    assert client.get(close).status_code == 405
    client.post(reverse("inbox:assign", args=[conversation.pk]), {"assignee": me.pk})
    client.post(close)
    client.post(reverse("inbox:reopen", args=[conversation.pk]))
    note = {"body": "Call her back", "nonce": NONCE}
    client.post(reverse("inbox:note", args=[conversation.pk]), note)
    again = client.post(reverse("inbox:note", args=[conversation.pk]), note, follow=True)

    conversation.refresh_from_db()
    assert conversation.assigned_to == me and conversation.is_open
    assert conversation.notes.get().author == me  # one note for the double click
    assert "This form had already been sent; it was not done again." in again.content.decode()


def test_an_unknown_sender_is_linked_to_a_guest_from_the_screen(
    client, login, guest, receive
) -> None:
    login("Front desk")
    receive("+447700900123", "It's Ayşe from my husband's phone")
    conversation = Conversation.objects.get()
    url = reverse("inbox:conversation", args=[conversation.pk])

    page = client.get(url, {"find": "Yılmaz"})
    assert list(page.context["candidates"]) == [guest]
    client.post(reverse("inbox:link", args=[conversation.pk]), {"guest": guest.pk})

    assert Conversation.objects.get().guest == guest


def test_a_nul_character_in_the_guest_search_is_dropped_not_a_500(
    client, login, guest, receive
) -> None:
    login("Front desk")
    receive("+447700900123", "It's Ayşe from my husband's phone")
    url = reverse("inbox:conversation", args=[Conversation.objects.get().pk])

    page = client.get(url, {"find": "Yıl\x00maz"})

    assert page.status_code == 200
    assert list(page.context["candidates"]) == [guest]


def test_the_stay_card_lists_data_processing_consent_without_an_empty_channel(
    client, login, guest, receive
) -> None:
    guest_record_consent(
        guest=guest, purpose=ConsentPurpose.DATA_PROCESSING, granted=True, source="staff"
    )
    login("Front desk")
    receive("+905321234567", "Merhaba")

    html = client.get(
        reverse("inbox:conversation", args=[Conversation.objects.get().pk])
    ).content.decode()

    label = ConsentPurpose.DATA_PROCESSING.label
    assert f"<li>{label}: " in html and f"{label} · :" not in html


def test_quick_replies_are_kept_by_front_desk_not_marketing(client, login) -> None:
    login("Marketing")
    assert client.get(reverse("inbox:quick-replies")).status_code == 403
    login("Front desk", "desk2")
    answer = client.post(
        reverse("inbox:quick-reply-add"),
        {
            "title": "Breakfast",
            "language": "en",
            "body": "07:00–10:30",
            "position": 0,
            "is_active": "on",
            "nonce": NONCE,
        },
    )
    assert answer.status_code == 302
    assert QuickReply.objects.get().title == "Breakfast"


def test_the_inbox_speaks_turkish(client, login, guest, receive) -> None:
    login("Front desk")
    receive(guest.phone, "Merhaba")
    client.post(reverse("set_language"), {"language": "tr", "next": reverse("inbox:list")})

    listing = client.get(reverse("inbox:list")).content.decode()
    page = client.get(
        reverse("inbox:conversation", args=[Conversation.objects.get().pk])
    ).content.decode()

    assert "Gelen kutusu" in listing and "Bana atananlar" in listing and "Atanmamış" in listing
    assert "Konuşma açıldı" in page and "Konaklama kartı" in page and "Gönder" in page


def test_only_colleagues_who_may_answer_are_offered_for_assignment(
    client, login, staff, guest, receive
) -> None:
    me = login("Front desk")
    manager, marketing = staff("Manager"), staff("Marketing")
    receive(guest.phone, "Hello")

    page = client.get(reverse("inbox:conversation", args=[Conversation.objects.get().pk]))

    offered = {pk for pk, _label in page.context["assign_form"].fields["assignee"].choices if pk}
    assert offered == {me.pk, manager.pk}
    assert marketing.pk not in offered


def test_the_rows_alone_come_back_for_the_live_refresh(client, login, guest, receive) -> None:
    login("Front desk")
    receive(guest.phone, "Hello")

    rows = client.get(reverse("inbox:list"), {"rows": "1"}, headers={"HX-Request": "true"})

    html = rows.content.decode()
    assert "Ayşe Yılmaz" in html and "<h1>" not in html


def test_the_conversation_costs_the_same_queries_for_a_short_or_long_thread(
    client, login, guest, receive, top_up
) -> None:
    from interfaces.inbox.services import conversation_add_note, conversation_reply

    top_up(100)
    me = login("Front desk")
    receive(guest.phone, "Hello")
    conversation = Conversation.objects.get()
    url = reverse("inbox:conversation", args=[conversation.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    short = queries()
    for n in range(10):
        receive(guest.phone, f"Question {n}")
        conversation_reply(
            conversation=conversation, user=me, nonce=f"{n:032x}", text=f"Answer {n}"
        )
        conversation_add_note(conversation=conversation, body=f"Note {n}", user=me)
    assert queries() == short


# --- the read marker: written when there is something new, not on every poll -----------------


def _thread(client, conversation: Conversation) -> str:
    """The thread as the page's 5-second poll fetches it."""
    return client.get(
        reverse("inbox:conversation", args=[conversation.pk]),
        {"part": "thread"},
        headers={"HX-Request": "true"},
    ).content.decode()


def _read_post(client, html: str, conversation: Conversation):
    """What the thread's read marker posts when it loads (None: the thread has none)."""
    found = re.search(r"hx-vals='(\{[^']*\})'", html)
    if found is None:
        return None
    assert reverse("inbox:read", args=[conversation.pk]) in html
    return client.post(
        reverse("inbox:read", args=[conversation.pk]), json.loads(html_unescape(found.group(1)))
    )


def _marker_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "inbox_conversationread" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_a_poll_with_nothing_new_writes_no_read_marker(client, login, guest, receive) -> None:
    desk = login("Front desk")
    receive(guest.phone, "Hello")
    conversation = Conversation.objects.get()
    page = client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert _read_post(client, page, conversation).status_code == 204  # the first view reads it
    assert unread_count(user=desk) == 0
    marker = ConversationRead.objects.get(user=desk)
    assert marker.read_at == Conversation.objects.get().last_inbound_at

    with CaptureQueriesContext(connection) as polls:
        for _ in range(3):
            html = _thread(client, conversation)
            assert _read_post(client, html, conversation) is None  # nothing new: no marker
            assert "Hello" in html
        # A page left open in another tab still posts: that writes nothing either.
        late = client.post(
            reverse("inbox:read", args=[conversation.pk]),
            {"upto": marker.read_at.isoformat()},
        )
    assert late.status_code == 204 and "HX-Trigger" not in late
    assert _marker_writes(polls.captured_queries) == []
    assert ConversationRead.objects.get(user=desk).read_at == marker.read_at


def test_a_new_message_is_marked_read_once_it_is_shown(client, login, guest, receive) -> None:
    desk = login("Front desk")
    receive(guest.phone, "Hello")
    conversation = Conversation.objects.get()
    _read_post(client, _thread(client, conversation), conversation)
    receive(guest.phone, "Are you there?")
    assert unread_count(user=desk) == 1

    html = _thread(client, conversation)
    assert "Are you there?" in html
    # A third message arrives after the thread was drawn: it is not read yet.
    receive(guest.phone, "Hello??", sent_at=timezone.now() + dt.timedelta(seconds=1))
    with CaptureQueriesContext(connection) as read:
        response = _read_post(client, html, conversation)
    assert response.status_code == 204 and response["HX-Trigger"] == "inbox-read"
    assert len(_marker_writes(read.captured_queries)) == 1
    assert unread_count(user=desk) == 1  # "Hello??" was not on the screen
    html = _thread(client, conversation)
    assert _read_post(client, html, conversation).status_code == 204
    assert unread_count(user=desk) == 0
    assert _read_post(client, _thread(client, conversation), conversation) is None


@pytest.mark.parametrize("upto", ["yesterday", "2026-13-45T99:00:00+00:00", "2026-12-01T10:00:00"])
def test_a_malformed_read_marker_is_refused_and_changes_nothing(
    client, login, guest, receive, upto
) -> None:
    desk = login("Front desk")
    receive(guest.phone, "Hello")
    conversation = Conversation.objects.get()
    response = client.post(reverse("inbox:read", args=[conversation.pk]), {"upto": upto})
    assert response.status_code == 400
    assert not ConversationRead.objects.filter(user=desk).exists()
