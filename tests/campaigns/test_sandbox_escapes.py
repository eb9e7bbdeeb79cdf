"""Staff templates cannot reach past guest data, nor make a render big or slow (R4, R5).

Each attempt is refused twice: when the template is saved, and — for a template that got
into the database some other way — by the sandbox when it is rendered, where it only costs
that recipient's message, with a reason that gives nothing away.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from jinja2.exceptions import SecurityError

from campaigns.models import Campaign, MessageVariant
from campaigns.rendering import (
    HTML_ENV,
    TEXT_ENV,
    RenderError,
    build_context,
    compile_variant,
    limits,
    template_error,
    validate_template,
    validate_variant,
)
from guests.models import Hotel
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

ESCAPES = [
    pytest.param("{{ guest.__class__ }}", id="class-of-a-value"),
    pytest.param("{{ ''.__class__.__mro__ }}", id="mro-of-a-string"),
    pytest.param('{{ guest|attr("__class__") }}', id="attr-filter"),
    pytest.param('{{ "{0.__class__}".format(guest) }}', id="str-format-field"),
    pytest.param('{{ "a".format_map }}', id="format-map"),
    pytest.param(
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}", id="subclasses"
    ),
    pytest.param("{{ guest.first_name.format(guest) }}", id="format-on-a-value"),
    pytest.param("{{ range.__globals__ }}", id="function-globals"),
    pytest.param("{{ self }}", id="template-reference"),
    pytest.param("{{ range }}", id="printing-a-function"),
    pytest.param("{{ guest.first_name.ljust(10**8) }}", id="padding-method"),
]
# What a reason must never contain: reprs, addresses, paths, the way to a shell.
LEAKS = ("<", "0x", "/", "Popen", "subprocess", "builtins", "os.")


@pytest.fixture
def campaign(db: None) -> Campaign:
    return Campaign.objects.create(name="Escapes")


@pytest.fixture
def recipient(db: None) -> dict[str, Any]:
    hotel = Hotel.load()
    return build_context(guest=GuestFactory(first_name="Emma"), hotel=hotel, language="en")


@pytest.fixture
def slow_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that moves 1 ms every time it is read: deadlines pass after a known amount of work."""
    ticks = itertools.count()
    monkeypatch.setattr(limits, "clock", lambda: next(ticks) / 1000)


def forced(campaign: Campaign, **parts: Any) -> MessageVariant:
    """Store a variant without validating it, as an import or a direct database edit could."""
    return MessageVariant.objects.create(campaign=campaign, language="en", **parts)


@pytest.mark.parametrize("source", ESCAPES)
def test_an_escape_attempt_is_refused_at_save(source: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_variant(MessageVariant(language="en", text=source, html=f"<p>{source}</p>"))
    assert set(caught.value.message_dict) == {"text", "html"}
    assert "(line 1)" in caught.value.message_dict["text"][0]


@pytest.mark.parametrize("source", ESCAPES)
def test_an_escape_attempt_forced_past_validation_fails_at_render_without_leaking_anything(
    campaign: Campaign, recipient: dict[str, Any], source: str
) -> None:
    variant = forced(campaign, text=source)
    with pytest.raises(RenderError) as caught:
        compile_variant(variant).render(recipient)
    assert caught.value.field == "text"
    assert "may not" in caught.value.reason
    assert isinstance(caught.value.__context__, SecurityError)
    assert not [leak for leak in LEAKS if leak in caught.value.message]


@pytest.mark.parametrize("source", [param.values[0] for param in ESCAPES])
def test_the_sandbox_itself_refuses_them_in_both_environments(source: str) -> None:
    context = {"guest": {"first_name": "Emma"}}
    for env in (TEXT_ENV, HTML_ENV):
        with pytest.raises(SecurityError):
            env.from_string(source).render(context)


def test_double_underscores_are_refused_anywhere_inside_tags_but_not_in_text_or_comments() -> None:
    assert template_error('{{ "__" }}', "text") is not None
    assert template_error("{% set x = 'a__b' %}{{ x }}", "text") is not None
    assert (
        template_error("snake__case {# __init__ #} {% raw %}{{ __x__ }}{% endraw %}", "text")
        is None
    )


def test_names_starting_with_an_underscore_are_refused_at_save() -> None:
    with pytest.raises(ValidationError, match="names starting with _"):
        validate_template("{{ guest._meta }}", "text")


@pytest.mark.parametrize(
    "source",
    [
        "{% include 'secrets.html' %}",
        "{% import 'macros.html' as m %}",
        "{% extends 'base.html' %}",
        "{% from 'x.html' import y %}",
    ],
)
def test_a_template_cannot_include_import_or_extend_another(source: str) -> None:
    with pytest.raises(ValidationError, match="cannot include, import or extend"):
        validate_template(source, "html")


def test_autoescaping_cannot_be_switched_off_in_html() -> None:
    with pytest.raises(ValidationError, match="Autoescaping"):
        validate_template("{% autoescape false %}{{ guest.first_name }}{% endautoescape %}", "html")


def test_guest_data_cannot_be_marked_safe_html() -> None:
    with pytest.raises(ValidationError, match="No filter named 'safe'"):
        validate_template("<p>{{ guest.first_name|safe }}</p>", "html")


# --- size and time -------------------------------------------------------------------------------
BOMBS = [
    pytest.param("{{ 'a' * 10**9 }}", id="string-times-a-billion"),
    pytest.param("{{ ['x'] * 10**7 }}", id="list-times-ten-million"),
    pytest.param("{{ 2 ** 1000000 }}", id="huge-power"),
    pytest.param("{{ range(10**9)|length }}", id="range-of-a-billion"),
    pytest.param("{{ '%999999999s'|format(1) }}", id="format-filter-width"),
    pytest.param("{{ '%*s' % (999999999, 1) }}", id="percent-star-width"),
    pytest.param("{{ ('x' * 1000)|replace('x', 'y' * 1000) }}", id="replace-multiplies"),
    pytest.param("{{ range(1000)|join('x' * 1000) }}", id="join-multiplies"),
    pytest.param("{% set s = 'x' * 500000 %}{{ s ~ s }}", id="concatenation-doubles"),
    pytest.param("{{ 'x' * 400000 + 'y' * 400000 }}", id="addition-doubles"),
]


@pytest.mark.parametrize("source", BOMBS)
def test_a_size_bomb_is_refused_at_save(source: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_template(source, "html")
    assert "went past a limit" in caught.value.message_dict["html"][0]


@pytest.mark.parametrize("source", BOMBS)
def test_a_size_bomb_forced_past_validation_fails_at_render(
    campaign: Campaign, recipient: dict[str, Any], source: str
) -> None:
    with pytest.raises(RenderError, match="went past a limit"):
        compile_variant(forced(campaign, html=source)).render(recipient)


def test_range_gives_up_to_a_thousand_numbers_and_no_more(recipient: dict[str, Any]) -> None:
    rendered = compile_variant(
        MessageVariant(language="en", text="{{ range(1000)|length }}")
    ).render(recipient)
    assert rendered.text == "1000"
    with pytest.raises(ValidationError, match="at most 1000 numbers"):
        validate_template("{% for i in range(1001) %}{% endfor %}", "text")


def test_loops_nested_three_deep_are_refused_at_save_with_the_line_of_the_third() -> None:
    source = (
        "{% for a in range(2) %}\n{% for b in range(2) %}\n"
        "{% for c in range(2) %}{{ c }}{% endfor %}\n{% endfor %}\n{% endfor %}"
    )
    with pytest.raises(ValidationError) as caught:
        validate_template(source, "text")
    message = caught.value.message_dict["text"][0]
    assert "more than 2 deep" in message
    assert "(line 3)" in message


def test_loops_nested_two_deep_are_fine() -> None:
    validate_template(
        "{% for a in range(3) %}{% for b in range(3) %}{{ a * b }}{% endfor %}{% endfor %}", "text"
    )


def test_a_recursive_loop_is_refused() -> None:
    with pytest.raises(ValidationError, match="Recursive loops"):
        validate_template("{% for x in [1] recursive %}{{ loop([]) }}{% endfor %}", "text")


def test_a_loop_that_runs_on_without_output_is_refused_at_save() -> None:
    with pytest.raises(ValidationError, match="loops more than 100,000 times"):
        validate_template(
            "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}", "text"
        )


def test_a_template_too_slow_for_the_sample_is_refused_at_save(slow_clock: None) -> None:
    source = (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    )
    with pytest.raises(ValidationError, match="took longer than 200 ms"):
        validate_template(source, "text")


def test_a_macro_calling_itself_forever_is_a_render_error(
    campaign: Campaign, recipient: dict[str, Any]
) -> None:
    variant = forced(campaign, text="{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}")
    with pytest.raises(RenderError, match="calls itself too deeply"):
        compile_variant(variant).render(recipient)
