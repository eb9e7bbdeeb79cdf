"""Words stored in no language (crm_messaging.i18n.Phrase): stored as a message id and its
parameters, read in the active language, in English where the catalogue has no entry."""

from __future__ import annotations

from django.utils import translation

from crm_messaging.i18n import Phrase, stored_words


def test_a_stored_phrase_reads_in_each_language_with_its_nested_reason() -> None:
    phrase = Phrase(
        "“%(number)s” is not a valid phone number: %(why)s.",
        {"number": "+90 12", "why": Phrase("it is too short")},
    )
    stored = phrase.as_json()
    assert stored == {
        "msgid": "“%(number)s” is not a valid phone number: %(why)s.",
        "params": {"number": "+90 12", "why": {"msgid": "it is too short"}},
    }
    with translation.override("tr"):
        assert stored_words(stored) == "“+90 12” geçerli bir telefon numarası değil: çok kısa."
        assert phrase.english() == "“+90 12” is not a valid phone number: it is too short."
    with translation.override("en"):
        assert stored_words(stored) == "“+90 12” is not a valid phone number: it is too short."


def test_words_the_catalogue_does_not_know_read_in_english_and_old_text_as_stored() -> None:
    with translation.override("tr"):
        assert str(Phrase("%(n)s things no one translated", {"n": 3})) == (
            "3 things no one translated"
        )
        assert stored_words({}, "no SMS address") == "no SMS address"


def test_a_counted_phrase_takes_the_form_its_amount_needs_in_each_language() -> None:
    from decimal import Decimal

    from django.utils.translation import override

    from channels_out.ledger import shortfall_phrase
    from crm_messaging.i18n import Phrase

    one, two, half = (shortfall_phrase(Decimal(n), Decimal(0)) for n in ("1", "2", "1.5"))
    assert [p.english() for p in (one, two, half)] == [
        "cost 1 credit, balance 0",
        "cost 2 credits, balance 0",
        "cost 1.50 credits, balance 0",
    ]
    stored = Phrase.from_json(one.as_json())  # read back from the database as it was written
    assert stored == one and stored.english() == "cost 1 credit, balance 0"
    with override("tr"):
        assert str(stored) == "maliyet 1 kredi, bakiye 0"
