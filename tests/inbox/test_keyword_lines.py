"""The thread says what a keyword did: an opt-out word in any language stops marketing, an
opt-in word (START, BAŞLA, СТАРТ …) allows it again — the sender's own reading of it — naming
the word as the guest wrote it ("İptal", not the folded "IPTAL" it is recognised by)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from interfaces.inbox.models import Conversation

pytestmark = pytest.mark.django_db


def test_the_thread_says_which_way_each_keyword_went(client, login, guest, receive) -> None:
    receive(guest.phone, "Merhaba")
    receive(guest.phone, "Ret")
    receive(guest.phone, "İptal.")
    receive(guest.phone, "Başla!")
    receive(guest.phone, "СТОП")
    receive(guest.phone, "старт")
    login("Front desk")

    page = client.get(reverse("inbox:conversation", args=[Conversation.objects.get().pk]))
    html = re.sub(r"\s+", " ", unescape(page.content.decode()))

    assert "The guest wrote Ret: no more SMS marketing messages." in html
    assert "The guest wrote İptal: no more SMS marketing messages." in html
    assert "The guest wrote Başla: SMS marketing messages allowed again." in html
    assert "The guest wrote СТОП: no more SMS marketing messages." in html
    assert "The guest wrote старт: SMS marketing messages allowed again." in html
    assert "IPTAL" not in html and "BASLA" not in html
