"""Wording shared by every screen: labels read in the middle of a sentence, and words stored
in no language (``Phrase``) that each reader reads in his own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeAlias

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext, ngettext, override

# Languages whose capital I/İ lower-case to ı/i (Python's str.lower turns İ into i + a combining dot).
_DOTTED_I_LANGUAGES = frozenset({"tr", "az"})


def lower_label(label: object) -> str:
    """Return ``label`` (a choice's label, possibly lazy) in lower case, as the active language
    writes it: "Cancelled" → "cancelled", "İptal edildi" → "iptal edildi"."""
    text = str(label)
    if (get_language() or "").split("-")[0] in _DOTTED_I_LANGUAGES:
        text = text.replace("İ", "i").replace("I", "ı")
    return text.lower()


def plural_count(amount: Decimal | int) -> int:
    """The whole number that picks the singular or plural form of an amount's noun (gettext
    counts in whole numbers): the amount itself when whole (1 credit, 2 credits); a fraction
    reads in the plural in the staff's languages ("1.5 credits", "0.5 credits"; Turkish has
    one form), so it counts as 2."""
    whole = int(amount)
    return whole if whole == amount else 2


def guest_language(code: str) -> str | None:
    """The guest language (``GUEST_LANGUAGES``) a language or culture code names — ``en-GB``,
    ``de_AT``, ``TR`` — or its name in that language (``Deutsch``); None when we have none."""
    known = dict(settings.GUEST_LANGUAGES)
    text = (code or "").strip()
    base = text.lower().replace("_", "-").split("-")[0]
    if base in known:
        return base
    by_name = {name.casefold(): key for key, name in known.items()}
    return by_name.get(text.casefold())


_CENT = Decimal("0.01")


def amount_text(value: Decimal) -> str:
    """An amount (credits) as the active language writes numbers: to the cent, the cents left
    out of a whole number — 1,250 and 12.50 in English, 1.250 and 12,50 in Turkish."""
    value = value.quantize(_CENT)
    places = 0 if value == value.to_integral_value() else 2
    return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


# A parameter of a phrase: words, a count, an amount (read as the reader writes numbers, see
# ``amount_text``), or a phrase.
Param: TypeAlias = "str | int | Decimal | Phrase"


@dataclass(frozen=True)
class Phrase:
    """Words kept in no language until someone reads them: a skip's detail, an import row's
    error. ``msgid`` is the English message (mark it with ``gettext_noop`` where it is written,
    so it is in the catalogue) and serves as its code; ``params`` fill its placeholders and may
    themselves be phrases (a reason inside a reason) or amounts (``Decimal``, written as the
    reader writes numbers: 68.50 / 68,50). ``str()`` puts it in the active language;
    ``as_json`` is what is stored, ``from_json`` reads it back. A msgid the catalogue no longer
    knows reads in English, so stored words never become unreadable. A phrase that counts
    something has its English ``plural`` too and names the parameter whose amount picks the
    form (``count``, read by ``plural_count``): "cost 1 credit", "cost 2 credits"."""

    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)
    plural: str = ""
    count: str = ""

    def __str__(self) -> str:
        if self.plural:
            amount = self.params[self.count]
            assert isinstance(amount, int | Decimal), "a phrase counts by an amount"
            text = ngettext(self.msgid, self.plural, plural_count(amount))
        else:
            text = gettext(self.msgid)
        if not self.params:
            return text
        return text % {
            name: amount_text(value) if isinstance(value, Decimal) else str(value)
            for name, value in self.params.items()
        }

    def english(self) -> str:
        """The phrase in English (for the API, exports and logs, which speak English)."""
        with override("en"):
            return str(self)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"msgid": self.msgid}
        if self.params:
            data["params"] = {k: _param_json(v) for k, v in self.params.items()}
        if self.plural:
            data["plural"], data["count"] = self.plural, self.count
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Phrase:
        params = {k: _param_read(v) for k, v in (data.get("params") or {}).items()}
        return cls(
            str(data["msgid"]), params, str(data.get("plural", "")), str(data.get("count", ""))
        )


def _param_json(value: Param) -> Any:
    if isinstance(value, Phrase):
        return value.as_json()
    if isinstance(value, Decimal):
        return {"amount": f"{value.normalize():f}"}
    return value


def _param_read(value: Any) -> Param:
    if isinstance(value, Mapping):
        return Decimal(value["amount"]) if "amount" in value else Phrase.from_json(value)
    return value  # type: ignore[no-any-return]


def stored_phrase(words: Mapping[str, Any] | None, fallback: str = "") -> Phrase | str:
    """Stored ``words`` (``Phrase.as_json``) as a phrase; ``fallback`` — the text an older
    version stored, or a provider's own words — when there are none."""
    return Phrase.from_json(words) if words else fallback


def stored_words(words: Mapping[str, Any] | None, fallback: str = "") -> str:
    """``stored_phrase`` in the active language."""
    return str(stored_phrase(words, fallback))


def error_phrases(error: ValidationError) -> list[Phrase]:
    """A refusal's messages as phrases, to be stored and read later in the reader's language:
    an error that carries its phrase (``InvalidPhone``) gives it; one whose message is lazy
    (``gettext_lazy`` with ``params``, Django's own field errors) gives its English message id
    and parameters; words already put into a language stay those words."""
    items = (
        [e for errors in error.error_dict.values() for e in errors]
        if hasattr(error, "error_dict")
        else error.error_list
    )
    phrases = []
    for item in items:
        phrase = getattr(item, "phrase", None)
        if isinstance(phrase, Phrase):
            phrases.append(phrase)
            continue
        with override("en"):
            msgid = str(item.message)
        params = item.params if isinstance(item.params, Mapping) else {}
        phrases.append(
            Phrase(
                msgid,
                {k: v if isinstance(v, int | Phrase) else str(v) for k, v in params.items()},
            )
        )
    return phrases


def reason_text(exc: BaseException) -> str:
    """An exception as staff read it: a refusal's messages as sentences in the active language,
    never its dictionary ("An SMS message needs a text.", not ``{'text': [...]}``); any other
    exception its own text."""
    if isinstance(exc, ValidationError):
        return " ".join(str(message) for message in exc.messages)
    return str(exc)
