"""How every API list pages (the integration API's messages and the webhook endpoints'
deliveries): newest first by id, ``limit`` (1–200, default 50) a page, and a ``cursor`` that
only the ``next``/``previous`` links make. A query parameter that is not valid is a 400 naming
it (``/limit``, ``/cursor``), as the lists' other query-parameter problems are — not DRF's
404 "Invalid cursor" for a cursor, nor a 500 for one that decodes to no id."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from .numbers import whole_number


class NewestFirstPages(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        """``limit`` (1–200) if given; a limit that is no number is refused, not ignored."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Give a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return size

    def decode_cursor(self, request: Request) -> Cursor | None:
        """The cursor of a ``next``/``previous`` link; anything else is a 400 on ``/cursor``."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            valid = (
                cursor is None
                or cursor.position is None
                or whole_number(cursor.position) is not None
            )
        if not valid:
            raise ValidationError(
                {
                    self.cursor_query_param: [
                        "Not a cursor of this list: use the next or previous link as given."
                    ]
                }
            )
        return cursor

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters
