"""Phone numbers are validated and stored in E.164 (S7, G1)."""

from __future__ import annotations

import pytest

from crm_messaging.phones import InvalidPhone, is_valid_phone, normalise_phone, phone_info


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "0532 123 45 67",
            "+905321234567",
        ),  # Turkish mobile in local form, read in the hotel's region
        ("+90 (532) 123-45-67", "+905321234567"),
        ("0090 532 123 45 67", "+905321234567"),  # international prefix 00
        ("+44 7911 123456", "+447911123456"),
        ("+49 1512 3456789", "+4915123456789"),
        ("+7 912 345-67-89", "+79123456789"),
    ],
)
def test_valid_numbers_are_stored_in_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


def test_a_local_number_is_read_in_the_given_region() -> None:
    assert normalise_phone("07911 123456", region="GB") == "+447911123456"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("hello", "not a phone number"),
        ("+90 532", "too short"),
        ("+90 532 123 45 67 89 01 23", "too long"),
        ("+90 111 111 11 11", "not a number in use in TR"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalise_phone(raw)
    assert reason in caught.value.messages[0]
    assert not is_valid_phone(raw)


def test_a_turkish_landline_is_valid_but_cannot_take_messages() -> None:
    info = phone_info("0212 345 67 89")
    assert info.e164 == "+902123456789"
    assert info.kind == "landline"
    assert not info.can_message


def test_a_mobile_can_take_messages_and_has_its_time_zone() -> None:
    info = phone_info("+90 532 123 45 67")
    assert info.region == "TR"
    assert info.kind == "mobile"
    assert info.can_message
    assert info.timezones == ("Europe/Istanbul",)


@pytest.mark.parametrize(
    "raw",
    [
        "+905321234567",
        "+902125551234",
        "+908502221111",
        "+905001234567",
        "+4915112345678",
        "+74951234567",
        "+77011234567",
        "+12015550123",
        "+18005550199",
        "+447911123456",
        "+999123456789",
        "+90532123456",
        "+79990000000",
        "+16135550123",
        "+97150123456",
        "+35312345678",
    ],
)
def test_phone_info_accepts_exactly_the_numbers_phonenumbers_calls_valid(raw) -> None:
    import phonenumbers

    try:
        expected = phonenumbers.is_valid_number(phonenumbers.parse(raw, None))
    except phonenumbers.NumberParseException:
        expected = False
    try:
        phone_info(raw)
    except InvalidPhone:
        accepted = False
    else:
        accepted = True
    assert accepted == expected
