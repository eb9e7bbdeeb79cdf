"""The survey link a message carries as ``@SURVEY`` (seed 000's post-stay survey).

A campaign names a survey address template — or the hotel names one for every campaign in
*Campaign settings* — with placeholders in braces, filled for each recipient:
``https://survey.example.com/s/4Hq?booking={resno}&lang={language}``. Without a template the
message has no survey link, and the gallery's survey text asks for a reply by e-mail instead.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from guests.models import Guest

if TYPE_CHECKING:
    from guests.models import Reservation


def _stay_values(guest: Guest, stay: Reservation | None, language: str) -> dict[str, str]:
    """Each placeholder's value for (guest, stay, language); "" where the message has no stay."""
    return {
        "resno": stay.number if stay is not None else "",
        "guest": str(guest.pk or ""),
        "language": language,
        "arrival": stay.arrival.isoformat() if stay is not None else "",
        "departure": stay.departure.isoformat() if stay is not None else "",
        "room": stay.room_number if stay is not None else "",
    }


# The placeholders a template may use: the keys above, in their order.
SURVEY_PLACEHOLDERS = tuple(_stay_values(Guest(), None, ""))


def _fields(template: str) -> list[str]:
    """The placeholder names in ``template``; raise ValueError for unbalanced braces."""
    return [
        name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None
    ]


def survey_url_errors(template: str) -> list[str]:
    """What is wrong with a survey address template, in the reader's language (empty: fine)."""
    if not template:
        return []
    try:
        names = _fields(template)
    except ValueError:
        return [_("A brace is not closed: write placeholders as {resno}.")]
    unknown = sorted({name for name in names if name not in SURVEY_PLACEHOLDERS})
    if unknown:
        return [
            _("Unknown placeholder %(names)s; use %(known)s.")
            % {
                "names": ", ".join(f"{{{name}}}" for name in unknown),
                "known": ", ".join(f"{{{name}}}" for name in SURVEY_PLACEHOLDERS),
            }
        ]
    parts = urlsplit(template.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [_("The survey link must be a full web address starting with https://.")]
    return []


def validate_survey_url(template: str) -> None:
    """Raise ValidationError with what is wrong with a survey address template."""
    errors = survey_url_errors(template)
    if errors:
        raise ValidationError(errors, code="invalid_survey_url")


def survey_url(
    template: str, *, guest: Guest, reservation: Reservation | None, language: str
) -> str:
    """Fill ``template``'s placeholders for one recipient, each value URL-encoded ("" for none)."""
    if not template:
        return ""
    values = {
        name: quote(value, safe="")
        for name, value in _stay_values(guest, reservation, language).items()
    }
    return template.format_map(values)


__all__ = ["SURVEY_PLACEHOLDERS", "survey_url", "survey_url_errors", "validate_survey_url"]
