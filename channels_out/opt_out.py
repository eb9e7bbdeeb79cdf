"""The way out of marketing messages (P3, S6), in one place: the line a marketing SMS, Viber
message or WhatsApp free text ends with, per guest language, and the keywords a guest may
answer with.

``text_as_sent`` is the one rule for the text a marketing message of a text channel goes with:
the sender checks its length, logs, prices and sends it (``services/messages.py``), and the
live counter measures it (``meter.py``), so the length, parts and credits staff see are those
checked and charged. The campaign estimate and preview run the sender's own build, so they
follow it too. A WhatsApp template goes as Meta approved it: it carries its own opt-out.

Each default hint names a keyword the inbound side honours (``OPT_OUT_KEYWORDS``; a test
holds every hint to it). Hints are written in the GSM-7 alphabet where the language allows
(``text.count_segments``: a single character outside it makes the whole SMS UCS-2, 70
characters a part instead of 160): Turkish and Slovak without the letters GSM-7 lacks
(ı ş ğ ç, á), as SMS in those languages often are. Cyrillic and Arabic hints cannot be GSM-7;
they name the Latin ``STOP`` (typed on any keyboard; ``СТОП`` is honoured as well), and a text
that is GSM-7 gets the English hint instead of one that would turn it UCS-2 and double its
parts (``opt_out_hint``; an SMS rule only: Viber and WhatsApp have no parts).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from guests.models import ConsentPurpose, ContactChannel

from .text import count_segments

if TYPE_CHECKING:
    from .models import ChannelAccount

# The channels whose marketing messages are a line of text we write, so end with the hint.
HINTED_CHANNELS = frozenset({ContactChannel.SMS, ContactChannel.VIBER, ContactChannel.WHATSAPP})
FALLBACK_LANGUAGE = "en"
# settings.GUEST_LANGUAGES → the line a marketing SMS, Viber message or WhatsApp free text
# ends with when the account has none.
OPT_OUT_HINTS: dict[str, str] = {
    "en": "Reply STOP to opt out",
    # "İptal için RET yazıp yanıtlayın" in GSM-7 letters. RET is the word of the Turkish
    # commercial-message rules: İYS records a refusal as RET, and recipients refuse by sending
    # "RET …" by SMS (İYS guide, https://www.iletimerkezi.com/en/docs/guides/iys-rehberi;
    # İYS SMS refusal, https://user.netmera.com/netmera-developer-guide/integrations/via-integration/etk-rejection-via-sms).
    "tr": "Iptal icin RET yazip yanitlayin",
    "de": "Zum Abmelden STOP antworten",
    "ru": "Чтобы отписаться, ответьте STOP",
    "sk": "Odhlasenie: odpovedzte STOP",
    "uk": "Щоб відписатися, надішліть STOP",
    "ar": "لإلغاء الاشتراك أرسل STOP",
    "fr": "Pour vous désinscrire, répondez STOP",
    "nl": "Afmelden? Antwoord STOP",
    "pl": "Rezygnacja: odpisz STOP",
    "it": "Per disiscriverti rispondi STOP",
    "es": "Para darte de baja responde STOP",
}

# A message that is one of these words (any case, Turkish İ/ı and accents folded, surrounding
# "." and "!" ignored) withdraws or gives marketing consent for its channel. English: the
# carrier-standard words (those Twilio honours on long codes). Turkish: RET (İYS, see above)
# and İPTAL ("cancel"). İPTAL, like CANCEL, may be meant for a booking; read as an opt-out it
# errs on the safe side. An opt-in needs a word that means nothing else: no "EVET"/"ONAY"
# (yes/approve), which a guest sends to confirm a booking.
_OPT_OUT_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
    "tr": ("RET", "İPTAL"),
    "de": ("STOPP", "ABMELDEN"),
    "ru": ("СТОП", "ОТПИСАТЬСЯ"),
    "uk": ("СТОП", "ВІДПИСАТИСЯ"),
}
_OPT_IN_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("START", "UNSTOP", "YES"),
    "tr": ("BAŞLA",),
    "ru": ("СТАРТ",),
    "uk": ("СТАРТ",),
}


def folded(word: str) -> str:
    """Return ``word`` as keywords compare: upper case, accents and dots dropped, so "iptal",
    "İptal", "IPTAL" and "ıptal" are all "IPTAL", and "Başla" is "BASLA"."""
    decomposed = unicodedata.normalize("NFKD", word.upper())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


OPT_OUT_KEYWORDS = frozenset(folded(w) for words in _OPT_OUT_WORDS.values() for w in words)
OPT_IN_KEYWORDS = frozenset(folded(w) for words in _OPT_IN_WORDS.values() for w in words)


def keyword_of(body: str) -> str:
    """Return the keyword a message consists of as the guest wrote it ("İptal" for "İptal!",
    "стоп" for " стоп. "), or "". It is recognised by its folded form (``folded``), which is
    for matching only: what is stored and shown is the guest's word."""
    word = body.strip().strip(".!").strip()
    return word if folded(word) in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS else ""


def opts_in(keyword: str) -> bool:
    """Whether ``keyword`` (as written, see ``keyword_of``) is an opt-in word (START, BAŞLA …);
    any other keyword opts out."""
    return folded(keyword) in OPT_IN_KEYWORDS


def opt_out_hint(
    account: ChannelAccount | None,
    *,
    language: str,
    text: str = "",
    channel: str = ContactChannel.SMS,
) -> str:
    """Return the line a marketing message from ``account`` in ``language`` ends with.

    The account's own hint, when the hotel wrote one, for every language (a Viber account's
    for Viber, an SMS account's for SMS — so Viber's SMS fallback ends with the SMS
    account's); else the default of ``language`` (English for a language without one) — or,
    for an SMS, the English one when ``text`` is GSM-7 and that default is not, so the hint
    never changes the SMS's encoding."""
    own = account.opt_out_hint.strip() if account is not None else ""
    if own:
        return own
    english = OPT_OUT_HINTS[FALLBACK_LANGUAGE]
    hint = OPT_OUT_HINTS.get(language.split("-")[0].lower(), english)
    if (
        channel == ContactChannel.SMS
        and text
        and count_segments(hint).is_unicode
        and not count_segments(text).is_unicode
    ):
        return english
    return hint


def text_as_sent(
    text: str,
    *,
    channel: str,
    purpose: str,
    account: ChannelAccount | None,
    language: str,
    template_id: str = "",
) -> str:
    """Return ``text`` as a message of ``channel`` and ``purpose`` goes: a marketing SMS,
    Viber message or WhatsApp free text ends with its opt-out hint on a line of its own
    (``opt_out_hint``), once; anything else — a service message, an e-mail (its way out is
    in its headers), a WhatsApp template (``template_id``: Meta approved it as written) — as
    written."""
    if purpose != ConsentPurpose.MARKETING or channel not in HINTED_CHANNELS or template_id:
        return text
    hint = opt_out_hint(account, language=language, text=text, channel=channel)
    body = text.rstrip()
    if body.endswith(hint):
        return text
    return f"{body}\n{hint}"
