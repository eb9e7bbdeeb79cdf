"""Control characters in campaign templates and in guest data (R4).

Static text is checked when a variant is saved, with its line; what a render puts together
from guest data is checked per recipient, so a guest whose name holds a control character is
skipped with the reason instead of failing the whole chunk at the sender's check.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import MessageVariant, Trigger
from campaigns.occurrences import Occurrence
from campaigns.rendering import validate_template, validate_variant
from campaigns.services import run_open, run_send_chunk
from channels_out.models import OutboundMessage, SkipReason, Status
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("source", "kind", "code", "line"),
    [
        ("Hello @NAME,\nsee you\x0b soon", "text", "U+000B", 2),
        ("<p>Hi</p>\n\n<p>\x00</p>", "html", "U+0000", 3),
        ("Welcome\x1b[1m", "subject", "U+001B", 1),
        ("Note\x85", "note", "U+0085", 1),
        ("Line one\rline two", "text", "U+000D", 1),
    ],
)
def test_a_control_character_in_a_template_is_refused_at_save_with_its_line(
    source: str, kind: str, code: str, line: int
) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_template(source, kind)
    [problem] = next(iter(caught.value.message_dict.values()))
    assert f"cannot be sent ({code})" in problem
    assert f"(line {line})" in problem


def test_a_tab_is_fine_in_a_text_but_not_in_a_subject() -> None:
    validate_template("Dear @NAME,\r\n\tyour room is ready.\n", "text")
    with pytest.raises(
        ValidationError, match=r"subject contains a character that cannot be sent \(U\+0009\)"
    ):
        validate_template("Welcome\t@NAME", "subject")


def test_a_whole_variant_is_refused_part_by_part() -> None:
    variant = MessageVariant(language="en", subject="Hi\x07", text="Hello\x00", html="<p>ok</p>")
    with pytest.raises(ValidationError) as caught:
        validate_variant(variant)
    assert set(caught.value.message_dict) == {"subject", "text"}


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("channel", "name", "code"),
    [("sms", "Ay\x0bşe", "U+000B"), ("email", "Ayşe\t", "U+0009"), ("viber", "Ayşe\x9b", "U+009B")],
)
def test_a_guest_whose_name_holds_a_control_character_is_skipped_and_the_others_get_theirs(
    make_campaign, top_up, channel: str, name: str, code: str
) -> None:
    top_up(10)
    campaign = make_campaign(
        trigger=Trigger.OPERATOR,
        source="guests",
        steps=[channel],
        texts={"en": "Hello @NAME"},
        subjects={"en": "Welcome @NAME" if channel == "email" else "Welcome"},
    )
    fine = GuestFactory(first_name="Emma", phone="+905321234567", email="emma@example.com")
    odd = GuestFactory(first_name=name, phone="+905321234568", email="ayse@example.com")
    run, _ = run_open(campaign, Occurrence.operator(), trigger=Trigger.OPERATOR)
    run_send_chunk(run.pk, [fine.pk, odd.pk])
    queued = OutboundMessage.objects.get(guest=fine)
    skipped = OutboundMessage.objects.get(guest=odd)
    assert queued.status == Status.QUEUED
    assert (skipped.status, skipped.skip_reason) == (Status.SKIPPED, SkipReason.RENDER_ERROR)
    assert f"cannot be sent ({code})" in skipped.reason
