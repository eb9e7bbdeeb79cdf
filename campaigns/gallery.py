"""The gallery of standard templates (C8, seed 000 "Standart Şablonlardan Seç").

Each template is a JSON file in ``fixtures/template_gallery/``: a key, an English title and
description for staff, the campaign settings it is written for (purpose, source, trigger,
timing, offset) and, per language, an e-mail subject, an HTML body and an SMS text, written
with the placeholders of :mod:`campaigns.rendering`. Staff pick one and adapt it; applying it
writes the campaign's message variants.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.db import transaction

from crm_messaging.actors import Actor, record_staff_action

from .models import Campaign, MessageVariant
from .rendering import validate_variant
from .services.campaigns import campaign_save

__all__ = [
    "GALLERY_DIR",
    "GalleryTemplate",
    "GalleryVariant",
    "gallery_apply",
    "gallery_campaign_create",
    "gallery_template",
    "gallery_templates",
]

GALLERY_DIR = Path(settings.BASE_DIR) / "fixtures" / "template_gallery"


@dataclass(frozen=True)
class GalleryVariant:
    """A standard template in one language."""

    language: str
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class GalleryTemplate:
    """A standard template in every language it is written in."""

    key: str
    title: str
    description: str
    purpose: str
    source: str
    trigger: str
    timing: str
    offset: int
    variants: Mapping[str, GalleryVariant]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.variants)


class GalleryError(LookupError):
    """The gallery has no such template, or not in the asked language."""


def gallery_templates() -> list[GalleryTemplate]:
    """Return the gallery's templates in their order; the files are read once per process.

    Raise ValueError naming the file when one is not a valid gallery template.
    """
    return list(_all_templates())


@functools.cache
def _all_templates() -> tuple[GalleryTemplate, ...]:
    templates = [_load(path) for path in sorted(GALLERY_DIR.glob("*.json"))]
    return tuple(
        template for _, template in sorted(templates, key=lambda pair: (pair[0], pair[1].key))
    )


def gallery_template(key: str) -> GalleryTemplate:
    """Return the template ``key``; raise GalleryError when there is none."""
    for template in gallery_templates():
        if template.key == key:
            return template
    known = ", ".join(template.key for template in gallery_templates())
    raise GalleryError(f"The gallery has no template “{key}”; it has {known}.")


def _load(path: Path) -> tuple[int, GalleryTemplate]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        variants = {
            language: GalleryVariant(
                language=language, subject=parts["subject"], html=parts["html"], text=parts["text"]
            )
            for language, parts in data["variants"].items()
        }
        template = GalleryTemplate(
            key=data["key"],
            title=data["title"],
            description=data["description"],
            purpose=data["purpose"],
            source=data["source"],
            trigger=data["trigger"],
            timing=data["timing"],
            offset=int(data["offset"]),
            variants=MappingProxyType(variants),
        )
        return int(data["order"]), template
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a valid gallery template: {exc!r}") from exc


def gallery_apply(
    *,
    campaign: Campaign,
    key: str,
    languages: Iterable[str] | None = None,
    overwrite: bool = False,
    user: Actor = None,
) -> list[MessageVariant]:
    """Write the gallery template ``key`` into ``campaign``'s variants; return those written
    (kept in the campaign's history with ``user``).

    For each language (default: every one the template has) a missing variant is created;
    an existing one is replaced (subject, HTML, text) only with ``overwrite``, keeping its
    staff note and WhatsApp template, and is otherwise left as it is and not returned. All
    or nothing, in one transaction. Raise GalleryError for an unknown key or language, and
    ValidationError if a text does not validate (see validate_variant).
    """
    template = gallery_template(key)
    wanted = list(dict.fromkeys(languages)) if languages is not None else list(template.languages)
    missing = [language for language in wanted if language not in template.variants]
    if missing:
        raise GalleryError(
            f"“{key}” is not written in {', '.join(missing)}; it is in {', '.join(template.languages)}."
        )
    written: list[MessageVariant] = []
    with transaction.atomic():
        existing = {
            variant.language: variant
            for variant in campaign.variants.select_for_update().filter(language__in=wanted)
        }
        for language in wanted:
            source = template.variants[language]
            variant = existing.get(language)
            if variant is not None and not overwrite:
                continue
            if variant is None:
                variant = MessageVariant(campaign=campaign, language=language)
            variant.subject, variant.html, variant.text = source.subject, source.html, source.text
            validate_variant(variant)
            variant.save()
            written.append(variant)
        if written:
            # A changed message is a changed campaign: a send waiting for approval sees it.
            campaign.save(update_fields=["updated_at"])
            languages_written = ", ".join(variant.language for variant in written)
            record_staff_action(
                user, campaign, f"Loaded the standard template “{key}” ({languages_written})."
            )
    return written


def gallery_campaign_create(
    *,
    key: str,
    channels: Sequence[str],
    name: str = "",
    active: bool = True,
    fields: Mapping[str, Any] | None = None,
    user: Actor = None,
) -> Campaign:
    """Create a campaign from the gallery template ``key``: its settings (purpose, source,
    trigger, timing, offset), a delivery plan of ``channels`` in order (each on the channel's
    default account) and a message in every language the template is written in — what the
    editor does when staff start from the template and save, in one transaction. ``fields``
    sets what staff would set besides (the recipients, a send time …).

    ``name`` defaults to the template's title. Raise GalleryError for an unknown key and
    ValidationError if a text does not validate.
    """
    template = gallery_template(key)
    with transaction.atomic():
        campaign = campaign_save(
            fields={
                "name": name or template.title,
                "description": template.description,
                "is_active": active,
                "purpose": template.purpose,
                "source": template.source,
                "trigger": template.trigger,
                "timing": template.timing,
                "offset": template.offset,
                **(fields or {}),
            },
            steps=[(channel, None) for channel in channels],
            user=user,
            where="from the standard template",
        )
        gallery_apply(campaign=campaign, key=key, user=user)
    return campaign
