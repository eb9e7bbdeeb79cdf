"""Staff-written message templates: placeholders, the sandbox, compiling, rendering, checking (C8, R4, R5).

Templates are Jinja2 run in an immutable sandbox, with Elektraweb-style keywords beside
Jinja's own syntax: ``Sayın @NAME @SURNAME`` is ``Sayın {{ guest.first_name }}
{{ guest.last_name }}``. Subjects, texts and WhatsApp variables are plain text; the e-mail
HTML escapes every value. An unknown placeholder is an error, never an empty string.

What a template can use
=======================

======================== ============== ==================================================
Jinja2                   keyword        value
======================== ============== ==================================================
guest.first_name         @NAME          "Ayşe"
guest.last_name          @SURNAME       "Yılmaz"
guest.full_name          @FULLNAME      "Ayşe Yılmaz"
guest.title              @TITLE         Ms/Mr, Bayan/Bay, Frau/Herr, госпожа/господин …
                                        from the gender, in the message's language;
                                        empty when the gender is not known
guest.language                          "tr", "en" … (the guest's own)
guest.nationality                       ISO country code, "TR"; empty when not known
guest.birth_date         @BIRTHDATE     date as below; empty when not known
guest.balance            @BALANCE       outstanding balance, "1.250,50" / "1,250.50"
reservation.number       @RESNO         "R0001234"
reservation.arrival      @ARRIVAL       date as below
reservation.departure    @DEPARTURE     date as below
reservation.nights       @NIGHTS        7 (a number)
reservation.room         @ROOM          "214"; empty before a room is assigned
reservation.room_type    @ROOMTYPE      "Sea-view double"
reservation.board        @BOARD         "Half board" / "Yarım pansiyon" / "Halbpension" …
reservation.adults       @ADULTS        2
reservation.children     @CHILDREN      1
facility.name            @FACILITY      "Hamam", "La Terrazza"
facility.type            @FACILITYTYPE  "Spa", "Restaurant"
facility.date            @STARTDATE     date as below (hotel time)
facility.time            @STARTTIME     "16:30" (hotel time)
facility.party_size      @PARTY         2
hotel.name               @HOTEL
hotel.phone              @HOTELPHONE
hotel.email              @HOTELEMAIL
hotel.website            @HOTELWEB
hotel.address            @HOTELADDRESS
links.unsubscribe        @UNSUBSCRIBE   the guest's own opt-out link
links.portal             @PORTAL        the guest portal (confirm details, consents)
links.survey             @SURVEY        the post-stay survey
======================== ============== ==================================================

``reservation`` and ``facility`` are empty (``None``) when the message is not about a stay or
a booking: ``{% if reservation %}…{% endif %}`` tests for it, and ``@ARRIVAL`` in a message
to a guest without a stay is that recipient's render error. ``links`` holds the links the
sender passes; ``{% if links.survey is defined %}`` tests for one.

Dates are written the way the message's language writes them: 27.11.2026 (tr, de, ru, uk,
pl, sk), 27-11-2026 (nl), 27/11/2026 (fr, it, es, ar) and 27 Nov 2026 (en: the same for
British and American readers).

Keywords are capitals after ``@`` at the start, after a space or punctuation: ``info@hotel.com``
stays as it is; ``@@`` writes a literal ``@``. See :mod:`.keywords`.

Jinja2 works as usual (``{% if %}``, ``{% for %}``, filters such as ``upper``, ``default``,
``replace``, ``join``, ``format``), within limits: ``range`` gives at most 1000 numbers, loops
nest at most two deep, a render takes at most 200 ms and builds at most 4 MB of text and
lists (no single text over 512 K characters, no list over 10,000 items — refused before they
are built, see :mod:`.limits`), only plain values (text, numbers, dates, lists and dicts of
them) are printed or turned into text (:mod:`.limits`), and nothing may reach Python's
internals (see :mod:`.sandbox`).

Using it
========

- :func:`validate_variant` when staff save a variant (ValidationError per field, with lines);
- :func:`choose_variant` picks the guest's language;
- :func:`compile_variant` once per variant, :func:`build_context` and
  ``CompiledVariant.render`` per recipient; a :class:`RenderError` skips that recipient.
"""

from .compiled import (
    LINE_BREAKS,
    MAX_TEXT_CHARS,
    MAX_WHATSAPP_VARIABLE_CHARS,
    NOTE_MARKER,
    RENDER_TIME_LIMIT,
    CacheInfo,
    CompiledVariant,
    Rendered,
    RenderError,
    compile_cache_clear,
    compile_cache_info,
    compile_template,
    compile_variant,
    render_part,
)
from .context import (
    CONTEXT_KEYS,
    LINK_NAMES,
    build_context,
    choose_variant,
    format_date,
    format_money,
    sample_context,
)
from .keywords import KEYWORDS, UnknownKeyword, translate_keywords
from .limits import MAX_LOOP_ITERATIONS, MAX_RANGE, MAX_VALUE_CHARS, LimitExceeded
from .sandbox import HTML_ENV, TEXT_ENV
from .validation import MAX_LOOP_DEPTH, template_error, validate_template, validate_variant

__all__ = [
    "CONTEXT_KEYS",
    "HTML_ENV",
    "KEYWORDS",
    "LINE_BREAKS",
    "LINK_NAMES",
    "MAX_LOOP_DEPTH",
    "MAX_LOOP_ITERATIONS",
    "MAX_RANGE",
    "MAX_TEXT_CHARS",
    "MAX_VALUE_CHARS",
    "MAX_WHATSAPP_VARIABLE_CHARS",
    "NOTE_MARKER",
    "RENDER_TIME_LIMIT",
    "TEXT_ENV",
    "CacheInfo",
    "CompiledVariant",
    "LimitExceeded",
    "RenderError",
    "Rendered",
    "UnknownKeyword",
    "build_context",
    "choose_variant",
    "compile_cache_clear",
    "compile_cache_info",
    "compile_template",
    "compile_variant",
    "format_date",
    "format_money",
    "render_part",
    "sample_context",
    "template_error",
    "translate_keywords",
    "validate_template",
    "validate_variant",
]
