from __future__ import annotations

import dataclasses

import pytest

from channels_out.text import GSM7_BASIC, GSM7_EXTENSION, SegmentInfo, count_segments

CYRILLIC = "д"
EMOJI = "\N{GRINNING FACE}"  # U+1F600, outside the BMP: a surrogate pair in UTF-16


def gsm(units: int, parts: int, per_part: int, remaining: int) -> SegmentInfo:
    return SegmentInfo("GSM-7", units, parts, per_part, remaining, ())


def ucs2(
    units: int, parts: int, per_part: int, remaining: int, chars: tuple[str, ...]
) -> SegmentInfo:
    return SegmentInfo("UCS-2", units, parts, per_part, remaining, chars)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Plain GSM-7 around the 160 / 153 limits.
        pytest.param("", gsm(0, 0, 160, 160), id="empty"),
        pytest.param("a", gsm(1, 1, 160, 159), id="gsm-1"),
        pytest.param("a" * 160, gsm(160, 1, 160, 0), id="gsm-160"),
        pytest.param("a" * 161, gsm(161, 2, 153, 145), id="gsm-161"),
        pytest.param("a" * 306, gsm(306, 2, 153, 0), id="gsm-306"),
        pytest.param("a" * 307, gsm(307, 3, 153, 152), id="gsm-307"),
        # Extension characters cost two septets.
        pytest.param("€", gsm(2, 1, 160, 158), id="euro-1"),
        pytest.param("\f", gsm(2, 1, 160, 158), id="form-feed-1"),
        pytest.param("€" * 80, gsm(160, 1, 160, 0), id="euro-80"),
        pytest.param("a" * 159 + "€", gsm(161, 2, 153, 145), id="gsm-159-then-euro"),
        # 81 euros: 76 fill 152 septets of part one, the 77th pair moves on.
        pytest.param("€" * 81, gsm(162, 2, 153, 143), id="euro-81"),
        # Escape pair at the 153 boundary: with one septet left it moves on.
        pytest.param(
            "a" * 152 + "€" + "a" * 152, gsm(306, 3, 153, 152), id="escape-pair-moves-to-next-part"
        ),
        # Escape pair that exactly fills the part stays in it.
        pytest.param(
            "a" * 151 + "€" + "a" * 153, gsm(306, 2, 153, 0), id="escape-pair-fills-part-exactly"
        ),
        # Cyrillic around the 70 / 67 limits.
        pytest.param(CYRILLIC * 70, ucs2(70, 1, 70, 0, (CYRILLIC,)), id="cyrillic-70"),
        pytest.param(CYRILLIC * 71, ucs2(71, 2, 67, 63, (CYRILLIC,)), id="cyrillic-71"),
        pytest.param(CYRILLIC * 134, ucs2(134, 2, 67, 0, (CYRILLIC,)), id="cyrillic-134"),
        pytest.param(CYRILLIC * 135, ucs2(135, 3, 67, 66, (CYRILLIC,)), id="cyrillic-135"),
        # In UCS-2 the euro sign is an ordinary BMP character: one unit.
        pytest.param("€" * 70 + CYRILLIC, ucs2(71, 2, 67, 63, (CYRILLIC,)), id="euro-in-ucs2"),
        # Emoji outside the BMP cost two UTF-16 units.
        pytest.param(EMOJI, ucs2(2, 1, 70, 68, (EMOJI,)), id="emoji-1"),
        pytest.param(EMOJI * 35, ucs2(70, 1, 70, 0, (EMOJI,)), id="emoji-35"),
        # 36 emoji: 33 fill 66 units of part one, the 34th pair moves on.
        pytest.param(EMOJI * 36, ucs2(72, 2, 67, 61, (EMOJI,)), id="emoji-36"),
        # Surrogate pair at the 67 boundary: with one unit left it moves on.
        pytest.param(
            "a" * 66 + EMOJI + "a" * 66,
            ucs2(134, 3, 67, 66, (EMOJI,)),
            id="surrogate-pair-moves-to-next-part",
        ),
        # Surrogate pair that exactly fills the part stays in it.
        pytest.param(
            "a" * 65 + EMOJI + "a" * 67,
            ucs2(134, 2, 67, 0, (EMOJI,)),
            id="surrogate-pair-fills-part-exactly",
        ),
    ],
)
def test_count_segments_reports_encoding_units_parts_capacity_and_room_left(
    text: str, expected: SegmentInfo
) -> None:
    assert count_segments(text) == expected


def test_a_161_character_gsm_text_needs_two_parts() -> None:
    info = count_segments("x" * 161)

    assert info.parts == 2
    assert info.per_part == 153


def test_an_empty_text_needs_no_parts_and_is_not_unicode() -> None:
    info = count_segments("")

    assert info.parts == 0
    assert info.is_unicode is False


@pytest.mark.parametrize("char", ["ş", "ğ", "ı", "İ", "Ş", "Ğ"])
def test_a_turkish_letter_outside_the_default_alphabet_forces_ucs2(char: str) -> None:
    info = count_segments(f"Merhaba {char}")

    assert info.encoding == "UCS-2"
    assert info.is_unicode is True
    assert info.ucs2_chars == (char,)


def test_turkish_letters_forcing_ucs2_are_listed_once_in_order_of_first_appearance() -> None:
    info = count_segments("Teşekkürler! İyi günler, kağıt ışık şeker İzmir")

    assert info.ucs2_chars == ("ş", "İ", "ğ", "ı")


def test_turkish_letters_that_are_in_the_default_alphabet_keep_the_text_gsm() -> None:
    info = count_segments("Ölü Çöl, Ünlü gül")

    assert info == gsm(17, 1, 160, 143)


def test_capital_c_cedilla_is_gsm_but_small_c_cedilla_forces_ucs2() -> None:
    assert count_segments("Ç").encoding == "GSM-7"
    assert count_segments("ç").ucs2_chars == ("ç",)


@pytest.mark.parametrize(
    "char",
    [
        pytest.param("ç", id="small-c-cedilla"),
        pytest.param("`", id="grave-accent"),
        pytest.param("á", id="a-acute"),
        pytest.param("ó", id="o-acute"),
        pytest.param("ê", id="e-circumflex"),
        pytest.param("ã", id="a-tilde"),
        pytest.param("\u2019", id="right-single-quote"),
        pytest.param("\u201c", id="left-double-quote"),
        pytest.param("\u2013", id="en-dash"),
        pytest.param("\u2026", id="ellipsis"),
        pytest.param("\u00a0", id="no-break-space"),
        pytest.param("\t", id="tab"),
        pytest.param("\x1b", id="bare-escape"),
        pytest.param("\u0301", id="combining-acute"),
        pytest.param("\u2126", id="ohm-sign-not-greek-omega"),
        pytest.param("\u2206", id="increment-not-greek-delta"),
        pytest.param("\N{GREEK SMALL LETTER ALPHA}", id="greek-small-alpha"),
        pytest.param("\N{GREEK CAPITAL LETTER ALPHA}", id="greek-capital-alpha"),
    ],
)
def test_a_lookalike_of_a_gsm_character_forces_ucs2(char: str) -> None:
    info = count_segments("Hello " + char)

    assert info.encoding == "UCS-2"
    assert info.ucs2_chars == (char,)


def test_the_default_alphabet_has_127_characters_besides_the_escape() -> None:
    assert len(GSM7_BASIC) == 127


def test_the_extension_table_has_exactly_the_ten_gsm_extension_characters() -> None:
    assert set("\f^{}\\[~]|€") == GSM7_EXTENSION


def test_no_character_is_in_both_the_default_alphabet_and_the_extension_table() -> None:
    assert GSM7_BASIC.isdisjoint(GSM7_EXTENSION)


def test_the_default_alphabet_holds_its_greek_capitals_and_special_latin_letters() -> None:
    expected = set("ΔΦΓΛΩΠΨΣΘΞ@£$¥èéùìòÇØøÅåÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r _")

    assert expected <= GSM7_BASIC


@pytest.mark.parametrize("char", sorted(GSM7_BASIC), ids=lambda c: f"U+{ord(c):04X}")
def test_every_default_alphabet_character_alone_stays_gsm_and_costs_one_septet(char: str) -> None:
    assert count_segments(char) == gsm(1, 1, 160, 159)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION), ids=lambda c: f"U+{ord(c):04X}")
def test_every_extension_character_alone_stays_gsm_and_costs_two_septets(char: str) -> None:
    assert count_segments(char) == gsm(2, 1, 160, 158)


def test_a_gsm_text_reports_no_ucs2_characters_and_is_not_unicode() -> None:
    info = count_segments("Your room 204 is ready {late check-out €20}")

    assert info.ucs2_chars == ()
    assert info.is_unicode is False


def test_segment_info_is_immutable() -> None:
    info = count_segments("hello")

    with pytest.raises(dataclasses.FrozenInstanceError):
        info.parts = 5  # type: ignore[misc]
