"""Save-time checks of staff templates (R4): every problem as a ValidationError naming its line.

A template is checked in this order, and the first problem found is reported:

0. a character no provider can take (a control character other than line breaks and tabs,
   ``channels_out.text``): the sender would refuse it for every recipient;
1. keywords: an unknown ``@WORD``;
2. a ``__`` anywhere inside ``{{ }}`` or ``{% %}`` (the way into Python's internals);
3. Jinja syntax;
4. the parsed template: loops nested deeper than :data:`MAX_LOOP_DEPTH`, recursive loops,
   include/import/extends, switching autoescape, names starting with ``_``,
   ``str.format``/``format_map``, unknown variables and unknown keys of the context's
   sections (also in branches a test render would not take);
5. compiling (unknown filters and tests);
6. a test render against :func:`~campaigns.rendering.context.sample_context`, with the
   sandbox, size, memory and time limits and the character check of a real send: what
   slipped past 4 (an attribute of a value, a refused method) fails here, with the line
   read from the traceback frames Jinja rewrites to the template's own lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from jinja2 import meta, nodes
from jinja2.exceptions import TemplateSyntaxError

from channels_out.text import first_unsendable

from .compiled import KINDS, RenderError, compile_template, compile_uncached, render_part
from .context import CONTEXT_KEYS, LINK_NAMES, sample_context
from .keywords import UnknownKeyword, translate_keywords

if TYPE_CHECKING:
    from campaigns.models import MessageVariant

__all__ = ["MAX_LOOP_DEPTH", "template_error", "validate_template", "validate_variant"]

MAX_LOOP_DEPTH = 2
KIND_FIELDS = {
    "subject": "subject",
    "text": "text",
    "html": "html",
    "note": "note",
    "whatsapp": "whatsapp_variables",
}
SECTION_KEYS: dict[str, tuple[str, ...]] = {**CONTEXT_KEYS, "links": LINK_NAMES}
_NOT_CODE_TOKENS = frozenset(
    {
        "data",
        "comment_begin",
        "comment",
        "comment_end",
        "linecomment_begin",
        "linecomment",
        "linecomment_end",
        "raw_begin",
        "raw_end",
    }
)
_FORMAT_METHODS = frozenset({"format", "format_map"})


def validate_template(source: str, kind: str, *, language: str | None = None) -> None:
    """Raise ValidationError({field: "… (line N)"}) when ``source`` cannot serve as a ``kind`` template.

    ``kind`` is one of "subject", "text", "html", "note", "whatsapp"; the field is the
    MessageVariant field it belongs to.
    """
    problem = template_error(source, kind, language=language)
    if problem:
        raise ValidationError({KIND_FIELDS[kind]: problem})


def template_error(source: str, kind: str, *, language: str | None = None) -> str | None:
    """Return what is wrong with ``source`` as a ``kind`` template (with its line), or None.

    The words are in the active language (the staff's); Jinja's own description of a syntax
    error has no other language and stays, as Jinja wrote it, inside a translated sentence."""
    env = KINDS[kind].env
    found = first_unsendable(source, body=True)
    if found:
        position, code = found
        return gettext(
            "The template contains a character that cannot be sent (%(code)s); only line "
            "breaks and tabs are allowed besides visible text (line %(line)s)."
        ) % {"code": code, "line": source.count("\n", 0, position) + 1}
    try:
        jinja_source = translate_keywords(source)
    except UnknownKeyword as exc:
        return str(exc.phrase)
    try:
        for line, token, value in env.lex(jinja_source):
            if token not in _NOT_CODE_TOKENS and "__" in value:
                return gettext(
                    "“__” is not allowed inside %(output)s or %(statement)s: it leads to "
                    "Python's internals, not to guest data (line %(line)s)."
                ) % {"output": "{{ }}", "statement": "{% %}", "line": line}
        tree = env.parse(jinja_source)
    except TemplateSyntaxError as exc:
        return gettext("Template syntax error: %(detail)s (line %(line)s).") % {
            "detail": exc.message,
            "line": exc.lineno,
        }
    try:
        problems = _tree_problems(
            tree
        )  # finding undeclared names compiles: unknown filters show here
        if problems:
            line, message = min(problems, key=lambda problem: problem[0])
            return gettext("%(problem)s (line %(line)s).") % {"problem": message, "line": line}
        template = compile_template(source, kind)
    except TemplateSyntaxError as exc:
        return gettext("Template error: %(detail)s (line %(line)s).") % {
            "detail": exc.message,
            "line": exc.lineno,
        }
    try:
        render_part(template, kind, sample_context(language))
    except RenderError as exc:
        return _sentence(exc)
    return None


def _sentence(exc: RenderError) -> str:
    """A render error as a sentence in the active language: capitalised, with a full stop."""
    message = str(exc.phrase)
    return message[:1].upper() + message[1:] + "."


def _tree_problems(tree: nodes.Template) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    _walk(tree, 0, problems)
    assigned = {name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param")}
    known = set(SECTION_KEYS) | set(KINDS["text"].env.globals)
    for name in sorted(meta.find_undeclared_variables(tree) - known):
        line = min(
            (node.lineno for node in tree.find_all(nodes.Name) if node.name == name), default=1
        )
        problems.append(
            (
                line,
                gettext("Unknown placeholder “%(name)s”; the template can use %(known)s")
                % {"name": name, "known": ", ".join(SECTION_KEYS)},
            )
        )
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if not isinstance(node, nodes.Getattr | nodes.Getitem):
            continue
        section = node.node
        key = _key_of(node)
        if not (
            isinstance(section, nodes.Name)
            and section.ctx == "load"
            and section.name in SECTION_KEYS
            and section.name not in assigned
            and key is not None
        ):
            continue
        if key not in SECTION_KEYS[section.name]:
            problems.append(
                (
                    node.lineno,
                    gettext("Unknown placeholder “%(name)s”; %(section)s has %(known)s")
                    % {
                        "name": f"{section.name}.{key}",
                        "section": section.name,
                        "known": ", ".join(SECTION_KEYS[section.name]),
                    },
                )
            )
    return problems


def _key_of(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _walk(node: nodes.Node, depth: int, problems: list[tuple[int, str]]) -> None:
    """Collect what the structure of the template makes unsafe or too expensive."""
    problem = _node_problem(node)
    if problem:
        problems.append((node.lineno, problem))
    if isinstance(node, nodes.For):
        if depth + 1 > MAX_LOOP_DEPTH:
            problems.append(
                (
                    node.lineno,
                    gettext("Loops nested more than %(depth)s deep are too expensive")
                    % {"depth": MAX_LOOP_DEPTH},
                )
            )
        for child in (node.target, node.iter, node.test):
            if child is not None:
                _walk(child, depth, problems)
        for child in node.body:
            _walk(child, depth + 1, problems)
        for child in node.else_:
            _walk(child, depth, problems)
        return
    for child in node.iter_child_nodes():
        _walk(child, depth, problems)


def _node_problem(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.For) and node.recursive:
        return gettext("Recursive loops are not allowed")
    if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
        return gettext("A message template cannot include, import or extend other templates")
    if isinstance(node, nodes.EvalContextModifier | nodes.ScopedEvalContextModifier):
        return gettext("Autoescaping cannot be switched inside a template")
    if isinstance(node, nodes.Name) and node.name == "self" and node.ctx == "load":
        return gettext("“self” is not available in message templates")
    name = None
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        name = _key_of(node)
    elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
        argument = node.args[0]
        name = (
            argument.value
            if isinstance(argument, nodes.Const) and isinstance(argument.value, str)
            else None
        )
    if name is not None and name.startswith("_"):
        return gettext(
            "“%(name)s” is not allowed: names starting with _ lead to Python's internals"
        ) % {"name": name}
    if name in _FORMAT_METHODS:
        return gettext(
            "“.%(name)s” is not allowed: it can reach Python's internals; use the format filter"
        ) % {"name": name}
    return None


def validate_variant(variant: MessageVariant) -> None:
    """Raise ValidationError({field: [messages]}) for every part of ``variant`` that is not sendable.

    Each non-empty part is checked on its own (see template_error); when all pass, the whole
    variant is rendered for the sample recipient, note included, so a note pushing the text
    past its limit is caught too.
    """
    errors: dict[str, list[str]] = {}
    language = variant.language or None

    def check(source: str, kind: str, key: str = "") -> None:
        problem = template_error(source, kind, language=language)
        if problem:
            errors.setdefault(KIND_FIELDS[kind], []).append(
                gettext("Variable %(key)s: %(problem)s") % {"key": key, "problem": problem}
                if key
                else problem
            )

    for field in ("subject", "text", "html", "note"):
        source = getattr(variant, field) or ""
        if source.strip():
            check(source, field)
    _check_whatsapp(variant.whatsapp_variables, check, errors)
    if not errors:
        try:
            compile_uncached(variant).render(sample_context(language))
        except RenderError as exc:
            errors.setdefault(exc.field or "text", []).append(_sentence(exc))
    if errors:
        raise ValidationError(errors)


def _check_whatsapp(variables: Any, check: Any, errors: dict[str, list[str]]) -> None:
    if not variables:
        return
    field = "whatsapp_variables"
    if not isinstance(variables, dict):
        errors.setdefault(field, []).append(
            gettext('Write the variables as an object, such as {"1": "@NAME"}.')
        )
        return
    for key, value in variables.items():
        if not str(key).isdigit():
            errors.setdefault(field, []).append(
                gettext("Variable “%(key)s”: the keys are the template's numbers, “1”, “2” …")
                % {"key": key}
            )
        elif (
            isinstance(value, bool)
            or not isinstance(value, str | int | float)
            or not str(value).strip()
        ):
            errors.setdefault(field, []).append(
                gettext("Variable %(key)s: write a text, such as “@NAME”.") % {"key": key}
            )
        else:
            check(str(value), "whatsapp", str(key))
