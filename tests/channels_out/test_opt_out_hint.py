"""Every marketing SMS (and Viber message, test_opt_out_viber_whatsapp.py) ends with its way out (P3): the hotel's own line, else one in the
message's language naming a keyword the inbound side honours."""

from __future__ import annotations

import pytest
from django.conf import settings

from channels_out.models import ChannelAccount
from channels_out.opt_out import OPT_OUT_HINTS, OPT_OUT_KEYWORDS, folded
from channels_out.services import Step, message_fall_back, message_send
from channels_out.text import count_segments
from guests.models import Guest
from guests.services import guest_record_consent
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

TURKISH = "Iptal icin RET yazip yanitlayin"
ENGLISH = "Reply STOP to opt out"


def _subscriber(language: str) -> Guest:
    guest = GuestFactory(language=language)
    guest_record_consent(
        guest=guest, purpose="marketing", channel="sms", granted=True, source="staff"
    )
    return guest


def _marketing(guest: Guest, text: str = "Bahar firsati: %20 indirim", **kwargs) -> str:
    return message_send(
        steps=Step(channel="sms", text=text), guest=guest, purpose="marketing", **kwargs
    ).body


@pytest.fixture
def blank_hint(accounts, top_up) -> ChannelAccount:
    top_up(20)
    assert accounts["sms"].opt_out_hint == ""
    return accounts["sms"]


def test_a_turkish_guest_gets_the_turkish_hint_from_an_account_without_one(blank_hint) -> None:
    assert _marketing(_subscriber("tr")) == f"Bahar firsati: %20 indirim\n{TURKISH}"


def test_an_english_guest_gets_the_english_hint(blank_hint) -> None:
    assert _marketing(_subscriber("en")).endswith(f"\n{ENGLISH}")


def test_a_language_without_a_hint_gets_the_english_one(blank_hint) -> None:
    assert _marketing(_subscriber("tr"), language="pt").endswith(f"\n{ENGLISH}")


def test_the_messages_language_chooses_the_hint_before_the_guests(blank_hint) -> None:
    # A Turkish guest sent the English variant reads the English way out.
    assert _marketing(_subscriber("tr"), text="Spring offer", language="en").endswith(
        f"\n{ENGLISH}"
    )


def test_a_service_sms_carries_no_hint(blank_hint) -> None:
    message = message_send(steps=Step(channel="sms", text="Odaniz hazir"), guest=_subscriber("tr"))
    assert message.body == "Odaniz hazir"


def test_the_hotels_own_hint_wins_in_every_language(blank_hint) -> None:
    blank_hint.opt_out_hint = "RET: 3838"
    blank_hint.save()
    for language in ("tr", "de", "ru"):
        assert _marketing(_subscriber(language)).endswith("\nRET: 3838")


def test_a_cyrillic_hint_never_turns_a_gsm7_text_ucs2(blank_hint) -> None:
    guest = _subscriber("ru")
    assert _marketing(guest, text="Privet! Skidka 20%").endswith(f"\n{ENGLISH}")
    cyrillic = _marketing(guest, text="Привет! Скидка 20%")
    assert cyrillic.endswith("\n" + OPT_OUT_HINTS["ru"])


def test_a_hint_already_at_the_end_is_not_added_twice(blank_hint) -> None:
    text = f"Bahar firsati\n{TURKISH}"
    assert _marketing(_subscriber("tr"), text=text) == text


def test_every_guest_language_has_a_hint_naming_a_keyword_that_opts_out() -> None:
    for code, _name in settings.GUEST_LANGUAGES:
        words = {folded(word.strip(".,:;?!")) for word in OPT_OUT_HINTS[code].split()}
        assert words & OPT_OUT_KEYWORDS, code


def test_the_hints_of_latin_script_languages_are_gsm7() -> None:
    unicode_scripts = {"ru", "uk", "ar"}
    for code, hint in OPT_OUT_HINTS.items():
        assert count_segments(hint).is_unicode == (code in unicode_scripts), code


def test_the_viber_message_and_the_sms_after_it_each_carry_the_hint_once(blank_hint) -> None:
    guest = _subscriber("tr")
    guest_record_consent(
        guest=guest, purpose="marketing", channel="viber", granted=True, source="staff"
    )
    viber = message_send(
        steps=Step(channel="viber", text="Bahar firsati"), guest=guest, purpose="marketing"
    )
    assert viber.channel == "viber" and viber.body == f"Bahar firsati\n{TURKISH}"
    sms = message_fall_back(viber, reason="not a Viber user")
    assert sms is not None and sms.channel == "sms"
    assert sms.body == f"Bahar firsati\n{TURKISH}"
