"""Templates are bounded in memory, not only in output (R5).

Each class of payload that could make one render build tens or hundreds of megabytes (while
printing a few characters) is refused — at save, and, for a template forced past validation,
at render before the big value exists: the render's peak memory, measured with tracemalloc,
stays under the budget of what a render may build plus one value. Values that are not plain
data (functions, loops, generators, views) cannot be printed or turned into text, so their
reprs never leak.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Campaign, MessageVariant
from campaigns.rendering import (
    HTML_ENV,
    TEXT_ENV,
    RenderError,
    compile_variant,
    sample_context,
    template_error,
    validate_template,
)
from campaigns.rendering.limits import MAX_BUILT_BYTES, MAX_VALUE_CHARS

pytestmark = pytest.mark.django_db

# A value as long as a template may build (half a million characters).
X = "{% set x = 'a' * 500000 %}"
# One a fifth of that: many of them fit in a render's budget, a hundred do not.
X100K = "{% set x = 'a' * 100000 %}"
# The most a render may hold: everything it built, plus the value being built (4 bytes a character).
PEAK_BOUND = MAX_BUILT_BYTES + 4 * MAX_VALUE_CHARS

BOMBS = [
    pytest.param(
        X + "{{ (('%s' * 100) % ((x,) * 100))|length }}", id="percent-repeats-an-argument"
    ),
    pytest.param(X + "{{ (('%(a)s' * 100) % {'a': x})|length }}", id="percent-names-an-argument"),
    pytest.param(X + "{{ ('%s' * 100)|format(*((x,) * 100))|length }}", id="format-filter"),
    pytest.param(X + "{{ ('%(a)s' * 100)|format(a=x)|length }}", id="format-filter-by-name"),
    pytest.param(
        "{% set x = '€' * 500000 %}{{ x|urlencode|urlencode|length }}", id="urlencode-amplifies"
    ),
    pytest.param(
        "{% set x = '\"' * 500000 %}{{ [x|e, x|e, x|e]|map('length')|sum }}",
        id="escape-amplifies",
    ),
    pytest.param(
        "{% set x = 'ß' * 500000 %}{{ [x|upper, x|upper, x|upper]|map('length')|sum }}",
        id="case-mapping-grows",
    ),
    pytest.param(X + "{{ ([x] * 100)|string|length }}", id="repr-of-a-long-list"),
    pytest.param(X + "{{ dict(a=x, b=x, c=x, d=x)|string|length }}", id="repr-of-a-dict"),
    pytest.param(X + "{{ [[x] * 100]|join|length }}", id="repr-inside-join"),
    pytest.param(X + "{{ (([x] * 100) ~ '')|length }}", id="repr-inside-concatenation"),
    pytest.param(X + "{{ [x] * 100 }}", id="printing-a-long-list"),
    pytest.param(
        X100K + "{{ range(100)|map('replace', '', x)|list|length }}", id="many-built-values-kept"
    ),
    pytest.param(
        X + "{% set y %}{% for i in range(100) %}{{ x }}{% endfor %}{% endset %}{{ y|length }}",
        id="text-of-a-set-block",
    ),
    pytest.param(
        X + "{% macro m() %}{% for i in range(100) %}{{ x }}{% endfor %}{% endmacro %}"
        "{{ m()|length }}",
        id="text-of-a-macro",
    ),
    pytest.param(
        X + "{% filter length %}{% for i in range(100) %}{{ x }}{% endfor %}{% endfilter %}",
        id="text-of-a-filter-block",
    ),
    pytest.param("{% set x = 'ab ' * 170000 %}{{ x.split()|length }}", id="split-into-many-parts"),
    pytest.param("{% set x = '€' * 500000 %}{{ x|list|length }}", id="list-of-characters"),
    pytest.param("{% set x = 'ab ' * 170000 %}{{ x|title|length }}", id="title-splits-words"),
    pytest.param(
        "{% set x = 'ab ' * 170000 %}{{ x|striptags|length }}", id="striptags-splits-words"
    ),
]


@pytest.fixture
def campaign(db: None) -> Campaign:
    return Campaign.objects.create(name="Bombs")


def _peak_of(render: Any) -> tuple[int, BaseException | None]:
    """Run ``render()`` under tracemalloc; return its peak and what it raised."""
    tracemalloc.start()
    try:
        try:
            render()
        except Exception as exc:
            raised: BaseException | None = exc
        else:
            raised = None
        return tracemalloc.get_traced_memory()[1], raised
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("source", BOMBS)
def test_a_memory_bomb_is_refused_at_save(source: str) -> None:
    problem = template_error(source, "text")
    assert problem is not None and "went past a limit" in problem


@pytest.mark.parametrize("source", BOMBS)
def test_a_memory_bomb_forced_past_validation_is_refused_before_it_is_built(
    campaign: Campaign, source: str
) -> None:
    variant = compile_variant(
        MessageVariant.objects.create(campaign=campaign, language="en", text=source)
    )
    context = sample_context("en")
    peak, raised = _peak_of(lambda: variant.render(context))
    assert isinstance(raised, RenderError)
    assert "went past a limit" in raised.reason
    assert peak < PEAK_BOUND


def test_the_html_template_escapes_within_the_bound_too() -> None:
    source = "{% set x = '\"' * 200000 %}<p>{{ x }}</p>"  # 200 000 quotes → 1 000 000 characters
    assert "the printed value would be 1,000,000 characters long" in template_error(source, "html")


def test_many_small_steps_add_up_to_the_render_budget() -> None:
    """No single value is too long; what the loop builds together is."""
    source = X100K + "{% for i in range(100) %}{% set y = x ~ i %}{% endfor %}"
    problem = template_error(source, "text")
    assert problem is not None and "builds more than 4 MB of text" in problem


# --- plain values only ------------------------------------------------------------------------
REPRS = [
    pytest.param("{{ range|string }}", id="string-filter-of-a-function"),
    pytest.param("{{ [range] }}", id="a-function-inside-a-list"),
    pytest.param("{{ dict(f=range) }}", id="a-function-inside-a-dict"),
    pytest.param("{{ range ~ '' }}", id="concatenating-a-function"),
    pytest.param("{{ '%s' % range }}", id="percent-formatting-a-function"),
    pytest.param("{{ '%s'|format(range) }}", id="format-filter-of-a-function"),
    pytest.param("{{ [range]|join }}", id="joining-a-function"),
    pytest.param("{{ range|e }}", id="escaping-a-function"),
    pytest.param("{{ range|urlencode }}", id="urlencoding-a-function"),
    pytest.param("{{ range|lower }}", id="lower-casing-a-function"),
    pytest.param("{{ [guest.first_name.upper] }}", id="a-method-inside-a-list"),
    pytest.param("{{ [1, 2]|map('string') }}", id="a-generator"),
    pytest.param("{{ dict(a=1).items() }}", id="a-dict-view"),
    pytest.param("{% for i in [1] %}{{ [loop] }}{% endfor %}", id="the-loop"),
    pytest.param("{{ range(3) }}", id="a-range"),
]


@pytest.mark.parametrize("source", REPRS)
def test_a_value_that_is_not_plain_data_is_refused_at_save(source: str) -> None:
    with pytest.raises(ValidationError, match="may not: a [A-Za-z_]+ cannot be printed"):
        validate_template(source, "text")


@pytest.mark.parametrize("source", REPRS)
def test_a_value_that_is_not_plain_data_never_reaches_the_output(
    campaign: Campaign, source: str
) -> None:
    variant = MessageVariant.objects.create(campaign=campaign, language="en", text=source)
    with pytest.raises(RenderError) as caught:
        compile_variant(variant).render(sample_context("en"))
    assert "0x" not in caught.value.message and "<" not in caught.value.message
    for env in (TEXT_ENV, HTML_ENV):
        with pytest.raises(Exception) as refused:
            env.from_string(source).render(sample_context("en"))
        assert "0x" not in str(refused.value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ [1, 'a', none, true, 2.5] }}", "[1, 'a', None, True, 2.5]"),
        ("{{ guest.first_name ~ ' ' ~ reservation.nights }}", "Ayşe 7"),
        ("{{ [2, 1]|reverse|join(',') }}", "1,2"),
        ("{{ 'ab cd'|title }} {{ 'ß'|upper }}", "Ab Cd SS"),
        ("{{ '%s-%05.1f'|format('a', 2.5) }} {{ '%(n)s' % {'n': 3} }}", "a-002.5 3"),
        ("{{ 'a,b'.split(',')|join('+') }} {{ 'x y'.split()|length }}", "a+b 2"),
        ("{{ '€ &'|urlencode }} {{ '<b>'|e }}", "%E2%82%AC%20%26 &lt;b&gt;"),
        ("{% set s %}{{ guest.first_name }}!{% endset %}{{ s * 2 }}", "Ayşe!Ayşe!"),
        ("{{ 'a b  c'|wordcount }} {{ '<i>x</i> y'|striptags }}", "3 x y"),
    ],
)
def test_plain_values_still_render_as_before(source: str, expected: str) -> None:
    template = TEXT_ENV.from_string(source)
    assert template.render(sample_context("en")) == expected
