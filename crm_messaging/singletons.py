"""One-row models: the hotel, its house rules and the credit balance each keep exactly one row.

The rule lives here once: the row is ``pk=1`` and ``load()`` reads it, creating it with the
model's defaults on first use (the migrations create each row; a test database's flush removes
them, and the next ``load()`` puts them back).
"""

from __future__ import annotations

from typing import Self

from django.db import models


class OneRowModel(models.Model):
    """An abstract model whose table holds one row, read with ``load()``."""

    ROW = 1

    class Meta:
        abstract = True

    @classmethod
    def load(cls) -> Self:
        """Return the one row, creating it with its defaults on first use."""
        row, _ = cls._default_manager.get_or_create(pk=cls.ROW)
        return row
