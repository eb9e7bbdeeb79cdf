"""A language kept without the text an SMS step sends: Save refuses it next to the box, and a
campaign already stored that way gets plain sentences on its panels and send page, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.models import MessageVariant, Source, Trigger
from campaigns.selectors import forecast
from guests.models import Guest
from tests.factories import GuestFactory

from .test_screens_support import editor_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(make_campaign):
    return make_campaign(
        name="Spring offer",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        is_active=True,
        texts={"en": "Spring offer for @NAME", "tr": "@NAME için bahar fırsatı"},
    )


@pytest.fixture
def emptied(offer):
    """The offer as an earlier Save left it: the English message has a subject but no text."""
    MessageVariant.objects.filter(campaign=offer, language="en").update(text="")
    GuestFactory(language="en")
    return offer


def test_save_refuses_a_language_left_without_the_text_its_sms_step_sends(
    client, marketing, offer
) -> None:
    data = editor_data(
        name="Spring offer",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": "", "tr": "@NAME için bahar fırsatı"},
        subjects={"en": "Spring offer"},  # the English tab still holds something
    )
    answer = client.post(reverse("campaigns:campaign-edit", args=[offer.pk]), data)
    html = answer.content.decode()

    assert answer.status_code == 200
    assert "Nothing was saved" in html
    assert (
        'id="id_v-en-text_error">The SMS step sends this text: write it, or empty every box '
        "of this language to remove the language." in html
    )
    assert MessageVariant.objects.get(campaign=offer, language="en").text == (
        "Spring offer for @NAME"
    )


def test_emptying_every_box_of_a_language_still_removes_it(client, marketing, offer) -> None:
    data = editor_data(
        name="Spring offer",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"tr": "@NAME için bahar fırsatı"},
    )
    answer = client.post(reverse("campaigns:campaign-edit", args=[offer.pk]), data)

    assert answer.status_code == 302
    assert list(offer.variants.values_list("language", flat=True)) == ["tr"]


def test_the_cost_panel_says_why_in_sentences_not_a_dictionary(emptied) -> None:
    note = str(forecast(emptied).note)
    assert note == "Cannot be counted yet: An SMS message needs a text."
    with translation.override("tr"):
        note = str(forecast(emptied).note)
    assert "{" not in note and "SMS mesajı için bir metin gerekir." in note


def test_the_send_page_of_a_stored_unsendable_campaign_says_why_instead_of_failing(
    client, marketing, emptied
) -> None:
    answer = client.get(reverse("campaigns:campaign-send", args=[emptied.pk]))
    html = answer.content.decode()

    assert answer.status_code == 200
    assert "This campaign cannot be sent yet: [en] the SMS step needs a text." in html
    assert "Yes, send now" not in html and "Back to the campaign" in html


def test_a_recipients_message_of_an_unsendable_campaign_says_why_instead_of_failing(
    client, marketing, emptied
) -> None:
    guest = Guest.objects.get()
    url = reverse("campaigns:recipient-message", args=[emptied.pk, guest.pk])
    answer = client.get(url)

    assert answer.status_code == 200
    assert (
        "This message cannot be shown yet: An SMS message needs a text." in answer.content.decode()
    )


def test_the_missing_text_is_refused_alongside_the_other_problems(client, marketing, offer) -> None:
    data = editor_data(
        name="",
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": "", "tr": "@NAME için bahar fırsatı"},
        subjects={"en": "Spring offer"},
    )
    html = client.post(reverse("campaigns:campaign-edit", args=[offer.pk]), data).content.decode()

    assert "2 problems kept the campaign from being saved" in html
    assert 'id="id_v-en-text_error">The SMS step sends this text' in html
