"""The gallery of standard templates (C8): every language there, every text valid and short enough."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from campaigns import gallery
from campaigns.gallery import GalleryError, gallery_apply, gallery_template, gallery_templates
from campaigns.models import Campaign, MessageVariant
from campaigns.rendering import build_context, compile_variant, validate_variant
from channels_out.text import count_segments
from guests.models import (
    BoardType,
    Facility,
    FacilityBooking,
    FacilityType,
    Guest,
    Hotel,
    Reservation,
    RoomType,
)

KEYS = [
    "welcome",
    "pre_arrival",
    "post_stay_survey",
    "birthday",
    "cancellation",
    "spa_reminder",
    "restaurant_reminder",
    "come_back",
    "mid_stay",
    "check_out_eve",
]
LANGUAGES = ("tr", "en", "de", "ru")
EVERY_VARIANT = [
    pytest.param(key, language, id=f"{key}-{language}") for key in KEYS for language in LANGUAGES
]
TYPICAL_NAMES = {
    "tr": ("Mehmet", "Yılmaz"),
    "en": ("Emma", "Thompson"),
    "de": ("Julia", "Schneider"),
    "ru": ("Анна", "Смирнова"),
}


def typical_context(language: str, *, links: dict[str, str] | None = None) -> dict[str, Any]:
    """A guest with a common name in ``language``, on a week's stay with a spa booking."""
    first_name, last_name = TYPICAL_NAMES[language]
    guest = Guest(
        first_name=first_name, last_name=last_name, language=language, gender=Guest.Gender.FEMALE
    )
    reservation = Reservation(
        pk=48213,
        booker=guest,
        arrival=dt.date(2026, 7, 14),
        departure=dt.date(2026, 7, 21),
        room_number="305",
        room_type=RoomType(code="SV", name="Sea-view double"),
        board_type=BoardType(code="AI", name="All inclusive"),
        adults=2,
        children=1,
    )
    booking = FacilityBooking(
        guest=guest,
        party_size=2,
        starts_at=dt.datetime(2026, 7, 16, 17, 0, tzinfo=timezone.get_current_timezone()),
        facility=Facility(
            name="La Terrazza", facility_type=FacilityType(code="ALC", name="Restaurant")
        ),
    )
    hotel = Hotel(
        name="Aegean Pearl Hotel",
        phone="+90 252 316 10 10",
        email="info@aegeanpearl.com",
        website="https://www.aegeanpearl.com",
        address="Kumbahçe Mah. 12, 48400 Bodrum",
    )
    return build_context(
        guest=guest,
        reservation=reservation,
        facility_booking=booking,
        hotel=hotel,
        links=links or {},
        language=language,
    )


def variant_of(key: str, language: str) -> MessageVariant:
    source = gallery_template(key).variants[language]
    return MessageVariant(
        language=language, subject=source.subject, html=source.html, text=source.text
    )


def test_the_gallery_has_the_standard_templates_in_order() -> None:
    assert [template.key for template in gallery_templates()] == KEYS


def test_every_template_is_written_in_turkish_english_german_and_russian() -> None:
    for template in gallery_templates():
        assert set(template.languages) >= set(LANGUAGES), template.key
        for language in LANGUAGES:
            variant = template.variants[language]
            assert variant.subject.strip() and variant.text.strip(), (template.key, language)
            assert f'<html lang="{language}">' in variant.html, (template.key, language)
            assert "<!-- note -->" in variant.html, (template.key, language)


def test_every_template_says_what_campaign_it_is_written_for() -> None:
    for template in gallery_templates():
        assert template.title and template.description
        assert template.purpose in {"service", "marketing"}
        assert template.source in {"guests", "reservations", "spa", "facility"}
    assert gallery_template("birthday").purpose == "marketing"


@pytest.mark.parametrize(("key", "language"), EVERY_VARIANT)
def test_every_gallery_text_passes_validation(key: str, language: str) -> None:
    validate_variant(variant_of(key, language))


@pytest.mark.parametrize(("key", "language"), EVERY_VARIANT)
@pytest.mark.parametrize(
    "links",
    [{}, {"survey": "https://aegeanpearl.com/s/8f3k2", "portal": "https://aegeanpearl.com/p/x1"}],
    ids=["without-links", "with-links"],
)
def test_every_gallery_sms_fits_in_three_parts_for_a_typical_guest(
    key: str, language: str, links: dict[str, str]
) -> None:
    rendered = compile_variant(variant_of(key, language)).render(
        typical_context(language, links=links)
    )

    assert TYPICAL_NAMES[language][0] in rendered.text
    assert count_segments(rendered.text).parts <= 3, rendered.text


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("language", ["en", "de"])
def test_english_and_german_sms_stay_in_the_cheaper_gsm_alphabet(key: str, language: str) -> None:
    rendered = compile_variant(variant_of(key, language)).render(typical_context(language))

    assert not count_segments(rendered.text).is_unicode, count_segments(rendered.text).ucs2_chars


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_rendered_welcome_email_greets_the_guest_and_carries_the_staff_note(
    language: str,
) -> None:
    variant = variant_of("welcome", language)
    variant.note = "Late check-out until 14:00 is on us."
    rendered = compile_variant(variant).render(typical_context(language))

    assert (
        TYPICAL_NAMES[language][1] in rendered.subject
        or TYPICAL_NAMES[language][0] in rendered.subject
    )
    assert "Aegean Pearl Hotel" in rendered.html
    assert "<p>Late check-out until 14:00 is on us.</p>" in rendered.html
    assert "<!-- note -->" not in rendered.html
    assert "@" not in rendered.html.replace("info@aegeanpearl.com", "")


def test_the_birthday_email_offers_the_unsubscribe_link_the_sender_passes() -> None:
    variant = variant_of("birthday", "en")
    with_link = compile_variant(variant).render(
        typical_context("en", links={"unsubscribe": "https://x.example/u/7"})
    )
    without = compile_variant(variant).render(typical_context("en"))

    assert 'href="https://x.example/u/7"' in with_link.html
    assert "Unsubscribe" not in without.html


# --- applying a template to a campaign ------------------------------------------------------------
@pytest.fixture
def campaign(db: None) -> Campaign:
    return Campaign.objects.create(name="Welcome")


def test_applying_a_template_writes_a_variant_per_language(campaign: Campaign) -> None:
    written = gallery_apply(campaign=campaign, key="welcome")

    assert sorted(variant.language for variant in written) == sorted(LANGUAGES)
    stored = {variant.language: variant for variant in campaign.variants.all()}
    assert stored.keys() == set(LANGUAGES)
    assert stored["de"].subject == gallery_template("welcome").variants["de"].subject
    assert stored["tr"].text == gallery_template("welcome").variants["tr"].text


def test_applying_only_some_languages_writes_only_those(campaign: Campaign) -> None:
    gallery_apply(campaign=campaign, key="cancellation", languages=["de", "en"])

    assert sorted(campaign.variants.values_list("language", flat=True)) == ["de", "en"]


def test_an_existing_variant_is_kept_unless_overwriting_is_asked_for(campaign: Campaign) -> None:
    mine = MessageVariant.objects.create(
        campaign=campaign, language="en", text="My own @NAME", note="Free parking"
    )

    written = gallery_apply(campaign=campaign, key="welcome", languages=["en", "de"])
    mine.refresh_from_db()
    assert [variant.language for variant in written] == ["de"]
    assert mine.text == "My own @NAME"

    written = gallery_apply(campaign=campaign, key="welcome", languages=["en"], overwrite=True)
    mine.refresh_from_db()
    assert [variant.pk for variant in written] == [mine.pk]
    assert mine.text == gallery_template("welcome").variants["en"].text
    assert mine.note == "Free parking"


def test_an_unknown_template_or_language_is_refused_and_nothing_is_written(
    campaign: Campaign,
) -> None:
    with pytest.raises(GalleryError, match="no template “farewell”"):
        gallery_apply(campaign=campaign, key="farewell")
    with pytest.raises(GalleryError, match="not written in xx"):
        gallery_apply(campaign=campaign, key="welcome", languages=["en", "xx"])
    assert not campaign.variants.exists()


def test_a_variant_that_does_not_validate_writes_nothing_at_all(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_russian(variant: MessageVariant) -> None:
        if variant.language == "ru":
            raise ValidationError({"text": "broken"})

    monkeypatch.setattr(gallery, "validate_variant", refuse_russian)
    with pytest.raises(ValidationError):
        gallery_apply(campaign=campaign, key="welcome", languages=["en", "de", "ru"])
    assert not campaign.variants.exists()


@pytest.mark.parametrize("key", [template.key for template in gallery_templates()])
def test_every_gallery_title_and_description_reads_in_turkish(key: str) -> None:
    template = gallery_template(key)
    with translation.override("tr"):
        assert translation.gettext(template.title) != template.title
        assert translation.gettext(template.description) != template.description
