"""What the sender layer shows about a message's origin without knowing its kinds.

A message's ``origin`` is any row (a generic foreign key: whatever caused the message). The app
that owns a kind of origin registers, when it starts (its ``AppConfig.ready``), how reports
label it and what to load with it; an unregistered kind is labelled by its ``str``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

OriginKey = tuple[int, int | None]  # (content type id, object id), as a message stores them


@dataclass(frozen=True)
class OriginKind:
    label: Callable[[Any], str]
    related: tuple[str, ...] = ()


_kinds: dict[type[models.Model], OriginKind] = {}


def origin_kind_register(
    model: type[models.Model], *, label: Callable[[Any], str], related: tuple[str, ...] = ()
) -> None:
    """Label origins of ``model`` with ``label(row)``, loading ``related`` with them."""
    _kinds[model] = OriginKind(label, related)


def origin_labels(keys: Iterable[OriginKey]) -> dict[OriginKey, str]:
    """The report label of each origin in ``keys`` that still exists: one query per kind."""
    wanted: dict[int, set[int | None]] = defaultdict(set)
    for type_id, object_id in keys:
        wanted[type_id].add(object_id)
    labels: dict[OriginKey, str] = {}
    for type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        kind = _kinds.get(model, OriginKind(str))
        rows: Any = model._default_manager.filter(pk__in=ids)
        if kind.related:
            rows = rows.select_related(*kind.related)
        labels.update({(type_id, row.pk): str(kind.label(row)) for row in rows})
    return labels
