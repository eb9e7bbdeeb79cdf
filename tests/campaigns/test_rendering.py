"""Placeholders, per-language context, bounded rendering and save-time checks of templates (C8, R4, R5)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Campaign, MessageVariant
from campaigns.rendering import (
    CONTEXT_KEYS,
    KEYWORDS,
    LINK_NAMES,
    RenderError,
    UnknownKeyword,
    build_context,
    choose_variant,
    compile_cache_clear,
    compile_cache_info,
    compile_variant,
    compiled,
    limits,
    translate_keywords,
    validate_template,
    validate_variant,
)
from guests.models import FacilityBooking, Guest, Hotel
from tests.factories import FacilityFactory, GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hotel(db: None) -> Hotel:
    hotel = Hotel.load()
    hotel.name, hotel.phone, hotel.email = (
        "Aegean Pearl",
        "+90 252 316 10 10",
        "info@aegeanpearl.example",
    )
    hotel.save()
    return hotel


@pytest.fixture
def campaign(db: None) -> Campaign:
    return Campaign.objects.create(name="Test campaign")


@pytest.fixture
def slow_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that moves 1 ms every time it is read: deadlines pass after a known amount of work."""
    ticks = itertools.count()
    monkeypatch.setattr(limits, "clock", lambda: next(ticks) / 1000)


def render(text: str = "", *, context: dict[str, Any], **parts: Any) -> Any:
    return compile_variant(MessageVariant(language="en", text=text, **parts)).render(context)


def context_for(
    guest: Guest, hotel: Hotel, *, language: str = "en", **kwargs: Any
) -> dict[str, Any]:
    return build_context(guest=guest, hotel=hotel, language=language, **kwargs)


# --- keywords ---------------------------------------------------------------------------------
def test_keywords_become_jinja_expressions() -> None:
    assert (
        translate_keywords("Sayın @NAME @SURNAME")
        == "Sayın {{ guest.first_name }} {{ guest.last_name }}"
    )


def test_email_addresses_and_words_that_are_not_all_capitals_are_left_alone() -> None:
    text = "Write to info@hotel.com or INFO@HOTEL.COM, or @Hotel on social media."
    assert translate_keywords(text) == text


def test_keywords_after_punctuation_are_translated() -> None:
    assert translate_keywords('(@RESNO) <a href="@UNSUBSCRIBE">') == (
        '({{ reservation.number }}) <a href="{{ links.unsubscribe }}">'
    )


def test_keywords_inside_jinja_tags_and_raw_blocks_are_left_alone() -> None:
    text = '{{ "@NAME" }} {% if x == "}}@NAME" %}{% endif %} {% raw %}@NAME{% endraw %} {# @NAME #}'
    assert translate_keywords(text) == text


def test_a_double_at_writes_a_literal_at() -> None:
    assert translate_keywords("Follow @@HOTELTR") == "Follow @HOTELTR"


def test_an_unknown_keyword_is_an_error_naming_it_and_its_line() -> None:
    with pytest.raises(UnknownKeyword) as caught:
        translate_keywords("Dear @NAME,\nsee you on @ARIVAL")
    assert (caught.value.keyword, caught.value.line) == ("@ARIVAL", 2)
    with pytest.raises(ValidationError) as refused:
        validate_template("Dear @NAME,\nsee you on @ARIVAL", "text")
    assert "@ARIVAL" in refused.value.message_dict["text"][0]
    assert "(line 2)" in refused.value.message_dict["text"][0]


def test_every_keyword_stands_for_a_key_the_context_has() -> None:
    known = {f"{section}.{key}" for section, keys in CONTEXT_KEYS.items() for key in keys}
    known |= {f"links.{name}" for name in LINK_NAMES}
    assert set(KEYWORDS.values()) <= known
    assert {
        "@NAME",
        "@SURNAME",
        "@ARRIVAL",
        "@HOTEL",
        "@FACILITY",
        "@BALANCE",
        "@UNSUBSCRIBE",
    } <= set(KEYWORDS)


# --- the context and rendering per language -----------------------------------------------------
@pytest.mark.parametrize(
    ("language", "arrival", "board", "balance", "title"),
    [
        ("tr", "27.11.2026", "Oda ve kahvaltı", "1.250,50", "Bayan"),
        ("en", "27 Nov 2026", "Bed & breakfast", "1,250.50", "Ms"),
        ("de", "27.11.2026", "Übernachtung mit Frühstück", "1.250,50", "Frau"),
        ("ru", "27.11.2026", "Завтрак", "1 250,50", "госпожа"),
        ("fr", "27/11/2026", "Bed & breakfast", "1 250,50", "Mme"),
        ("nl", "27-11-2026", "Bed & breakfast", "1.250,50", "mevrouw"),
    ],
)
def test_dates_board_money_and_titles_are_written_the_way_the_language_writes_them(
    hotel: Hotel, language: str, arrival: str, board: str, balance: str, title: str
) -> None:
    guest = GuestFactory(
        first_name="Ayşe",
        last_name="Yılmaz",
        gender="female",
        outstanding_balance=Decimal("1250.50"),
    )
    reservation = ReservationFactory(
        booker=guest,
        arrival=dt.date(2026, 11, 27),
        departure=dt.date(2026, 12, 1),
        room_number="214",
    )
    context = context_for(guest, hotel, reservation=reservation, language=language)

    rendered = render("@TITLE @SURNAME|@ARRIVAL|@NIGHTS|@ROOM|@BOARD|@BALANCE", context=context)

    assert rendered.text == f"{title} Yılmaz|{arrival}|4|214|{board}|{balance}"


def test_the_context_holds_plain_values_only_never_model_instances(hotel: Hotel) -> None:
    guest = GuestFactory(birth_date=dt.date(1990, 2, 3))
    reservation = ReservationFactory(booker=guest)
    booking = FacilityBooking.objects.create(
        guest=guest,
        facility=FacilityFactory(),
        starts_at=dt.datetime(2026, 11, 29, 13, 30, tzinfo=dt.UTC),
    )
    context = context_for(
        guest,
        hotel,
        reservation=reservation,
        facility_booking=booking,
        links={"unsubscribe": "https://x.example/u/1"},
    )

    def leaves(value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [leaf for item in value.values() for leaf in leaves(item)]
        return [value]

    assert set(context) == {*CONTEXT_KEYS, "links"}
    for section, keys in CONTEXT_KEYS.items():
        assert tuple(context[section]) == keys
    assert all(type(leaf) in (str, int) for leaf in leaves(context))


def test_a_facility_booking_is_shown_in_hotel_time(hotel: Hotel, settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Istanbul"
    guest = GuestFactory(first_name="Emma")
    booking = FacilityBooking.objects.create(
        guest=guest,
        facility=FacilityFactory(name="Hamam"),
        party_size=2,
        starts_at=dt.datetime(2026, 11, 29, 13, 30, tzinfo=dt.UTC),
    )
    context = context_for(guest, hotel, facility_booking=booking, language="de")

    rendered = render("@FACILITY am @STARTDATE um @STARTTIME Uhr, @PARTY Personen", context=context)

    assert rendered.text == "Hamam am 29.11.2026 um 16:30 Uhr, 2 Personen"


def test_a_message_without_a_stay_can_test_for_it_and_fails_clearly_when_it_needs_one(
    hotel: Hotel,
) -> None:
    context = context_for(GuestFactory(first_name="Emma"), hotel)

    assert (
        render("{% if reservation %}@ARRIVAL{% else %}Hello @NAME{% endif %}", context=context).text
        == "Hello Emma"
    )
    with pytest.raises(RenderError) as caught:
        render("See you on @ARRIVAL", context=context)
    assert "no reservation" in caught.value.reason


def test_a_link_the_sender_did_not_pass_is_a_render_error_and_can_be_tested_for(
    hotel: Hotel,
) -> None:
    guest = GuestFactory()
    template = "{% if links.survey is defined %}Survey: @SURVEY{% else %}Reply to us{% endif %}"

    assert render(
        template, context=context_for(guest, hotel, links={"survey": "https://s.example/1"})
    ).text == ("Survey: https://s.example/1")
    assert render(template, context=context_for(guest, hotel)).text == "Reply to us"
    with pytest.raises(RenderError, match="survey"):
        render("Survey: @SURVEY", context=context_for(guest, hotel))


def test_html_escapes_guest_data_and_text_keeps_it_as_written(hotel: Hotel) -> None:
    guest = GuestFactory(first_name="<script>alert(1)</script>", last_name="O'Neil & Co")
    rendered = render(
        "Dear @NAME @SURNAME", html="<p>Dear @NAME @SURNAME</p>", context=context_for(guest, hotel)
    )

    assert rendered.html == "<p>Dear &lt;script&gt;alert(1)&lt;/script&gt; O&#39;Neil &amp; Co</p>"
    assert rendered.text == "Dear <script>alert(1)</script> O'Neil & Co"


# --- the staff note -----------------------------------------------------------------------------
def test_the_note_goes_on_a_new_line_after_the_text_and_into_the_html_where_marked(
    hotel: Hotel,
) -> None:
    context = context_for(GuestFactory(first_name="Emma"), hotel)
    rendered = render(
        "Your table is ready, @NAME.",
        html="<html><body><p>Hello</p><!-- note --><p>Bye</p></body></html>",
        note="Bring the list we mentioned, @NAME & co.",
        context=context,
    )

    assert rendered.text == "Your table is ready, Emma.\nBring the list we mentioned, Emma & co."
    assert rendered.html == (
        "<html><body><p>Hello</p><p>Bring the list we mentioned, Emma &amp; co.</p><p>Bye</p></body></html>"
    )


def test_without_a_marker_the_note_goes_before_the_end_of_the_body(hotel: Hotel) -> None:
    rendered = render(
        html="<html><body><p>Hello</p></BODY></html>",
        note="See you",
        context=context_for(GuestFactory(), hotel),
    )

    assert rendered.html == "<html><body><p>Hello</p><p>See you</p></BODY></html>"


def test_an_html_only_email_leaves_the_text_part_to_the_backend_which_derives_it_from_the_html(
    hotel: Hotel,
) -> None:
    rendered = render(
        html="<h1>Welcome, @NAME</h1><p>Enjoy your stay.</p>",
        note="Pool opens at 8.",
        context=context_for(GuestFactory(first_name="Emma"), hotel),
    )

    assert rendered.text == ""
    assert rendered.email_text == "Welcome, Emma\n\nEnjoy your stay.\n\nPool opens at 8."


# --- save-time validation ------------------------------------------------------------------------
def test_an_unknown_placeholder_is_refused_at_save_with_its_line() -> None:
    variant = MessageVariant(language="en", text="Hello @NAME,\n{{ guest.nickname }}")
    with pytest.raises(ValidationError) as caught:
        validate_variant(variant)
    message = caught.value.message_dict["text"][0]
    assert "guest.nickname" in message
    assert "(line 2)" in message


def test_an_unknown_attribute_of_a_value_is_found_by_the_test_render_with_its_line() -> None:
    variant = MessageVariant(
        language="en", html="<p>Hello</p>\n\n<p>{{ guest.first_name.nickname }}</p>"
    )
    with pytest.raises(ValidationError) as caught:
        validate_variant(variant)
    message = caught.value.message_dict["html"][0]
    assert "nickname" in message
    assert "(line 3)" in message


def test_an_unknown_variable_in_a_branch_the_sample_would_not_take_is_still_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_template(
            "{% if guest.first_name == 'nobody' %}\n\n{{ nobody_knows }}{% endif %}", "subject"
        )
    message = caught.value.message_dict["subject"][0]
    assert "nobody_knows" in message
    assert "(line 3)" in message


def test_a_syntax_error_is_refused_with_its_line() -> None:
    variant = MessageVariant(
        language="en",
        text="Dear @NAME,\n{% if reservation %}\nSee you {{ reservation.arrival }\n{% endif %}",
    )
    with pytest.raises(ValidationError) as caught:
        validate_variant(variant)
    message = caught.value.message_dict["text"][0]
    assert "syntax" in message
    assert "(line 3)" in message


def test_each_field_reports_its_own_problem() -> None:
    variant = MessageVariant(
        language="de",
        subject="Hallo @NAM",
        text="{{ guest.first_name }",
        html="<p>@NAME</p>",
        note="{{ hotel.fax }}",
        whatsapp_variables={"1": "@NAME", "2": "{{ guest.nope }}", "x": "@NAME"},
    )
    with pytest.raises(ValidationError) as caught:
        validate_variant(variant)
    errors = caught.value.message_dict
    assert set(errors) == {"subject", "text", "note", "whatsapp_variables"}
    assert "@NAM" in errors["subject"][0]
    assert "hotel.fax" in errors["note"][0]
    assert any(
        message.startswith("Variable 2:") and "guest.nope" in message
        for message in errors["whatsapp_variables"]
    )
    assert any("“x”" in message for message in errors["whatsapp_variables"])


def test_a_valid_variant_passes_and_uses_every_placeholder() -> None:
    text = " ".join(KEYWORDS)
    validate_variant(
        MessageVariant(
            language="tr",
            subject="Sayın @NAME @SURNAME",
            text=text,
            html=f"<p>{text}</p>",
            note="@HOTELPHONE",
            whatsapp_variables={"1": "@NAME", "2": "@ARRIVAL"},
        )
    )


def test_a_subject_written_over_two_lines_is_refused_at_save() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_variant(MessageVariant(language="en", subject="Hello\n@NAME", html="<p>x</p>"))
    assert "line break" in caught.value.message_dict["subject"][0]


def test_a_text_whose_sample_is_too_long_for_an_sms_is_refused_at_save() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_variant(MessageVariant(language="en", text="@FULLNAME " * 200))
    assert "longer than 1,600 characters" in caught.value.message_dict["text"][0]


def test_a_note_that_pushes_the_text_past_its_limit_is_refused_at_save() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_variant(MessageVariant(language="en", text="x" * 1595, note="See you soon!"))
    assert "with the note" in caught.value.message_dict["note"][0]


# --- bounds at render ----------------------------------------------------------------------------
def test_a_line_break_in_a_rendered_subject_is_refused_as_header_injection(hotel: Hotel) -> None:
    guest = GuestFactory(first_name="Eve", last_name="Smith\r\nBcc: victim@example.com")
    with pytest.raises(RenderError) as caught:
        render("Hi", subject="Dear @NAME @SURNAME", context=context_for(guest, hotel))
    assert caught.value.field == "subject"
    assert "line break" in caught.value.reason


@pytest.mark.parametrize(
    ("parts", "field", "limit"),
    [
        ({"subject": "{{ 'x' * 256 }}"}, "subject", "255 characters"),
        ({"text": "{{ guest.first_name * 401 }}"}, "text", "1,600 characters"),
        # 300,000 Cyrillic letters are 600,000 bytes: HTML is measured in bytes.
        (
            {"html": "{% for i in range(300) %}{{ 'я' * 1000 }}{% endfor %}"},
            "html",
            "524,288 bytes",
        ),
        (
            {"whatsapp_variables": {"1": "{{ 'x' * 1025 }}"}},
            "whatsapp_variables",
            "1,024 characters",
        ),
    ],
)
def test_each_part_is_bounded_in_size(
    hotel: Hotel, parts: dict[str, Any], field: str, limit: str
) -> None:
    variant = MessageVariant(language="en", **parts)
    with pytest.raises(RenderError) as caught:
        compile_variant(variant).render(context_for(GuestFactory(first_name="Emma"), hotel))
    assert caught.value.field == field
    assert limit in caught.value.reason


def test_a_whatsapp_variable_may_not_contain_a_line_break(hotel: Hotel) -> None:
    guest = GuestFactory(first_name="Emma\nJane")
    with pytest.raises(RenderError, match="line breaks"):
        render(whatsapp_variables={"1": "@NAME"}, context=context_for(guest, hotel))


def test_a_render_past_its_deadline_stops_with_a_reason(hotel: Hotel, slow_clock: None) -> None:
    template = (
        "{% for i in range(1000) %}{% for j in range(1000) %}<i>{{ j }}</i>{% endfor %}{% endfor %}"
    )
    with pytest.raises(RenderError) as caught:
        render(html=template, context=context_for(GuestFactory(), hotel))
    assert caught.value.field == "html"
    assert "took longer than 200 ms" in caught.value.reason


def test_a_render_that_streams_too_much_stops_at_the_size_limit(hotel: Hotel) -> None:
    template = "{% for i in range(1000) %}{% for j in range(1000) %}{{ 'x' * 100 }}{% endfor %}{% endfor %}"
    with pytest.raises(RenderError, match="longer than 524,288 bytes"):
        render(html=template, context=context_for(GuestFactory(), hotel))


def test_a_loop_with_no_output_still_stops(hotel: Hotel) -> None:
    template = "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}done"
    with pytest.raises(RenderError, match="loops more than 100,000 times"):
        render(template, context=context_for(GuestFactory(), hotel))


def test_a_template_forced_past_validation_that_does_not_compile_fails_with_its_field_and_line(
    campaign: Campaign,
) -> None:
    variant = MessageVariant.objects.create(campaign=campaign, language="en", text="ok\n{% if %}")
    with pytest.raises(RenderError) as caught:
        compile_variant(variant)
    assert (caught.value.field, caught.value.line) == ("text", 2)


# --- compiling once ------------------------------------------------------------------------------
def test_a_variant_is_compiled_once_for_many_recipients(
    campaign: Campaign, hotel: Hotel, monkeypatch: pytest.MonkeyPatch
) -> None:
    compile_cache_clear()
    compiled_kinds: list[str] = []
    real_compile = compiled.compile_template

    def counting_compile(source: str, kind: str) -> Any:
        compiled_kinds.append(kind)
        return real_compile(source, kind)

    monkeypatch.setattr(compiled, "compile_template", counting_compile)
    variant = MessageVariant.objects.create(
        campaign=campaign,
        language="en",
        subject="Hi @NAME",
        text="Dear @NAME",
        html="<p>Dear @NAME</p>",
    )
    guests = [GuestFactory(first_name=f"Guest{n}") for n in range(20)]

    texts = [compile_variant(variant).render(context_for(guest, hotel)).text for guest in guests]

    assert texts == [f"Dear Guest{n}" for n in range(20)]
    assert sorted(compiled_kinds) == ["html", "subject", "text"]
    info = compile_cache_info()
    assert (info.misses, info.hits) == (1, 19)


def test_a_saved_change_is_compiled_anew(campaign: Campaign, hotel: Hotel) -> None:
    compile_cache_clear()
    variant = MessageVariant.objects.create(campaign=campaign, language="en", text="Dear @NAME")
    context = context_for(GuestFactory(first_name="Emma"), hotel)
    assert compile_variant(variant).render(context).text == "Dear Emma"

    variant.text = "Hello @NAME"
    variant.save()

    assert compile_variant(variant).render(context).text == "Hello Emma"
    assert compile_cache_info().misses == 2


# --- choosing the language -----------------------------------------------------------------------
def variants(*languages: str) -> list[MessageVariant]:
    return [
        MessageVariant(pk=pk, language=language) for pk, language in enumerate(languages, start=1)
    ]


def test_the_guests_language_is_chosen_when_written(settings: Any) -> None:
    settings.HOTEL_DEFAULT_LANGUAGE = "en"
    chosen = choose_variant(variants("de", "en", "tr"), "tr")
    assert chosen is not None and chosen.language == "tr"


def test_a_regional_language_code_finds_its_language(settings: Any) -> None:
    settings.HOTEL_DEFAULT_LANGUAGE = "en"
    chosen = choose_variant(variants("de", "en"), "de-AT")
    assert chosen is not None and chosen.language == "de"


def test_without_the_guests_language_the_hotels_default_is_chosen(settings: Any) -> None:
    settings.HOTEL_DEFAULT_LANGUAGE = "de"
    chosen = choose_variant(variants("tr", "de", "en"), "ru")
    assert chosen is not None and chosen.language == "de"


def test_without_either_the_first_by_language_code_is_chosen_whatever_the_order_given(
    settings: Any,
) -> None:
    settings.HOTEL_DEFAULT_LANGUAGE = "en"
    chosen = choose_variant(variants("tr", "ru", "de"), "fr")
    assert chosen is not None and chosen.language == "de"


def test_without_any_variant_nothing_is_chosen() -> None:
    assert choose_variant([], "en") is None
