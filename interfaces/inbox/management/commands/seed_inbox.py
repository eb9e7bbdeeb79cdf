"""Give the demo inbox life: quick replies in TR/EN/DE/RU and a few open conversations (idempotent).

Four guests staying now (Turkish, English, German, Russian speakers) get a number ending in
6666, so the sandbox answers for them whenever staff write (``channels_out.backends.sandbox``),
and each has written to the hotel; one unknown number has too. Run after ``seed_demo`` and
``setup_sandbox``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from channels_out.backends import Inbound
from channels_out.backends.sandbox import GUEST_REPLIES_SUFFIX
from channels_out.models import ChannelAccount
from channels_out.services import inbound_receive
from guests.models import Guest, Reservation
from guests.services import guest_update

from ...models import Conversation, QuickReply
from ...services import quick_reply_save

QUICK_REPLIES: dict[str, list[tuple[str, str]]] = {
    "tr": [
        ("Wi-Fi", "Merhaba {first_name} Hanım/Bey, Wi-Fi ağımız LykiaBay-Guest, şifre: LYKIA2026."),
        ("Kahvaltı", "Kahvaltı her gün 07:00–10:30 arası ana restoranda servis edilmektedir."),
        ("Giriş saati", "Odalarımız 14:00'te hazır olur; erken giriş için size haber vereceğiz."),
        ("Geç çıkış", "{room} numaralı odanız için 14:00'e kadar geç çıkış ücretsizdir."),
    ],
    "en": [
        ("Wi-Fi", "Hello {first_name}, our Wi-Fi is LykiaBay-Guest, password LYKIA2026."),
        ("Breakfast", "Breakfast is served daily from 07:00 to 10:30 in the main restaurant."),
        ("Check-in time", "Rooms are ready from 14:00; we will let you know if yours is earlier."),
        ("Late check-out", "Late check-out until 14:00 is free for room {room}."),
    ],
    "de": [
        ("WLAN", "Hallo {first_name}, unser WLAN heißt LykiaBay-Guest, Passwort LYKIA2026."),
        ("Frühstück", "Frühstück gibt es täglich von 07:00 bis 10:30 Uhr im Hauptrestaurant."),
        ("Check-in", "Die Zimmer sind ab 14:00 Uhr bereit; wir melden uns, wenn es früher geht."),
    ],
    "ru": [
        ("Wi-Fi", "Здравствуйте, {first_name}! Сеть Wi-Fi: LykiaBay-Guest, пароль LYKIA2026."),
        ("Завтрак", "Завтрак ежедневно с 07:00 до 10:30 в главном ресторане."),
        ("Заселение", "Номера готовы с 14:00; мы сообщим, если ваш будет готов раньше."),
    ],
}
# A follow-up that may go on WhatsApp after the 24-hour window (a template approved at Meta).
FOLLOW_UP = ("Follow-up (template)", "Hello {first_name}, how can we help you today?")
OPENERS = {
    "tr": ("whatsapp", "Merhaba, havuz kaçta açılıyor? Çocuklar için havlu alabilir miyiz?"),
    "en": ("sms", "Hi, is the spa open tonight? We'd like to book a massage for two."),
    "de": ("whatsapp", "Guten Tag, können wir morgen etwas später auschecken?"),
    "ru": ("sms", "Здравствуйте! Можно заказать трансфер в аэропорт на пятницу?"),
}
UNKNOWN = ("+447700900123", "Hello, do you have a sea-view room for two nights from Friday?")


class Command(BaseCommand):
    help = "Quick replies and a few open guest conversations for the demo inbox (run after setup_sandbox)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for language, replies in QUICK_REPLIES.items():
            for position, (title, body) in enumerate(replies):
                if not QuickReply.objects.filter(language=language, title=title).exists():
                    quick_reply_save(
                        quick_reply=QuickReply(
                            title=title, language=language, body=body, position=position
                        ),
                        user=None,
                    )
        if not QuickReply.objects.filter(title=FOLLOW_UP[0]).exists():
            quick_reply_save(
                quick_reply=QuickReply(
                    title=FOLLOW_UP[0],
                    language="en",
                    body=FOLLOW_UP[1],
                    whatsapp_template_id="HX0000000000000000000000000000de01",
                    position=99,
                ),
                user=None,
            )
        if Conversation.objects.exists():
            self.stdout.write("The demo inbox already has conversations.")
            return
        accounts = {a.channel: a for a in ChannelAccount.objects.filter(backend="sandbox")}
        if not {"sms", "whatsapp"} <= set(accounts):
            raise CommandError("Run setup_sandbox first: the inbox needs the sandbox accounts.")
        now = timezone.now()
        made = []
        for minutes, (language, (channel, text)) in enumerate(OPENERS.items()):
            guest = self._guest_in_house(language)
            if guest is None:
                continue
            inbound_receive(
                account=accounts[channel],
                inbound=Inbound(
                    provider_message_id=f"demo-inbox-{language}",
                    from_number=guest.phone,
                    body=text,
                    channel=channel,
                    sent_at=now - dt.timedelta(minutes=10 * (len(OPENERS) - minutes)),
                ),
            )
            made.append(f"{guest.full_name} ({language})")
        inbound_receive(
            account=accounts["sms"],
            inbound=Inbound(
                provider_message_id="demo-inbox-unknown",
                from_number=UNKNOWN[0],
                body=UNKNOWN[1],
                channel="sms",
                sent_at=now - dt.timedelta(minutes=3),
            ),
        )
        self.stdout.write(
            f"Demo inbox: conversations with {', '.join(made)} and one unknown sender."
        )

    def _guest_in_house(self, language: str) -> Guest | None:
        """A guest staying now who speaks ``language``, given a number the sandbox answers for."""
        stay = (
            Reservation.objects.filter(
                status=Reservation.Status.CHECKED_IN,
                booker__language=language,
                booker__phone_valid=True,
            )
            .exclude(booker__phone__endswith=GUEST_REPLIES_SUFFIX)
            .select_related("booker")
            .order_by("pk")
            .first()
        )
        if stay is None:
            return None
        guest = stay.booker
        try:
            return guest_update(guest=guest, phone=guest.phone[:-4] + GUEST_REPLIES_SUFFIX)
        except ValidationError:
            return guest
